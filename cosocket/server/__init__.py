"""The nginx-like prefork server: configuration, master, workers, HTTP, requests and handlers.

Everything here builds on the runtime in `cosocket` (sockets, pools,
deadlines, light threads, shared dicts, logging), which works without it.
"""
