"""lua-resty-websocket v0.13 for Python: `from websocket import server, client, protocol`."""
