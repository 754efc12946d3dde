"""The parsed configuration: plain data classes, fully merged.

`cosocket.server.conf` turns an nginx-style file into these objects; every other
module reads them and never looks at the text.  Values are merged the way
nginx merges them (http -> server -> location), so each `LocationConf`
carries complete `HttpSettings` and nobody walks up the tree at run time.

Units: every duration is in milliseconds, every size in bytes, every path
absolute.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

# nginx's error-log levels, in the order of ngx.STDERR (0) .. ngx.DEBUG (8).
LOG_LEVELS = ("stderr", "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug")


@dataclass
class ResolverConf:
    """The `resolver` directive: name servers and nginx's parameters."""

    servers: List[Tuple[str, int]] = field(default_factory=list)  # (address, port=53)
    ipv4: bool = True
    ipv6: bool = True
    valid: Optional[int] = None  # ms; None = honour the records' TTL


@dataclass
class SocketSettings:
    """The `lua_socket_*`, `lua_ssl_*` and `resolver*` directives."""

    connect_timeout: int = 60000
    send_timeout: int = 60000
    read_timeout: int = 60000
    buffer_size: int = 4096
    pool_size: int = 30
    keepalive_timeout: int = 60000
    log_errors: bool = True
    ssl_trusted_certificate: Optional[str] = None
    ssl_verify_depth: int = 1
    resolver: Optional[ResolverConf] = None  # None = the system's resolver
    resolver_timeout: int = 30000


@dataclass
class AccessLogConf:
    path: str
    format: str = "combined"


@dataclass
class HttpSettings:
    """Directives valid at http, server and location level, merged downwards."""

    keepalive_timeout: int = 75000
    keepalive_requests: int = 1000
    send_timeout: int = 60000
    client_header_timeout: int = 60000
    client_body_timeout: int = 60000
    client_max_body_size: int = 1048576  # 0 = unlimited
    client_header_buffer_size: int = 1024
    large_client_header_buffers: Tuple[int, int] = (4, 8192)  # (number, size)
    server_tokens: bool = True
    lingering_close: str = "on"  # on | off | always
    lingering_timeout: int = 5000
    # None = the default logs/access.log in combined format; [] = access_log off
    access_log: Optional[List[AccessLogConf]] = None
    lua_check_client_abort: bool = False
    default_type: str = "text/plain"  # nginx's compiled-in default; OpenResty's conf sets it per location
    python_code_cache: bool = True  # off: handler files and modules are reloaded when they change
    socket: SocketSettings = field(default_factory=SocketSettings)

    def copy(self) -> "HttpSettings":
        return dataclasses.replace(self, socket=dataclasses.replace(self.socket))


@dataclass
class HandlerConf:
    """`content_by_python_file path;` (kind 'file') or `content_by_python mod:func;` (kind 'function')."""

    kind: str  # "file" | "function"
    target: str  # absolute script path, or "package.module:function"
    file: str = ""  # where the directive was written, for messages
    line: int = 0


@dataclass
class LocationConf:
    modifier: str  # "" (prefix), "=", "^~", "~", "~*"
    pattern: str
    settings: HttpSettings
    handler: Optional[HandlerConf] = None
    return_: Optional[Tuple[int, Optional[str]]] = None  # `return code [text|URL];`
    file: str = ""
    line: int = 0


@dataclass
class ListenConf:
    host: Optional[str] = None  # None = every address ("*")
    port: Optional[int] = None
    unix: Optional[str] = None  # absolute path for `listen unix:/path`
    ssl: bool = False
    reuseport: bool = False
    backlog: int = 511
    default_server: bool = False

    @property
    def key(self) -> str:
        """The address as nginx names it: `127.0.0.1:8080`, `*:80`, `unix:/p`."""
        if self.unix is not None:
            return "unix:" + self.unix
        host = self.host or "*"
        if ":" in host:
            host = "[" + host + "]"
        return "%s:%d" % (host, self.port)


@dataclass
class ServerSslConf:
    certificate: Optional[str] = None
    certificate_key: Optional[str] = None
    client_certificate: Optional[str] = None
    verify_client: str = "off"  # off | on | optional | optional_no_ca
    verify_depth: int = 1
    protocols: List[str] = field(default_factory=lambda: ["TLSv1.2", "TLSv1.3"])


@dataclass
class ServerConf:
    listens: List[ListenConf]
    server_names: List[str]
    settings: HttpSettings
    locations: List[LocationConf] = field(default_factory=list)
    ssl: ServerSslConf = field(default_factory=ServerSslConf)
    file: str = ""
    line: int = 0
    return_: Optional[Tuple[int, Optional[str]]] = None  # `return` at server level: runs before locations


@dataclass
class ChannelsConf:
    """The `channels*` directives: where published messages go and how much each channel keeps."""

    backend: str = "embedded"  # "embedded" (the server's broker process) or a redis:// / rediss:// / unix URL
    socket: str = ""  # absolute path of the embedded broker's unix socket; default <prefix>/logs/channels.sock
    history_messages: int = 0  # the last N messages kept per channel (0: no history)
    history_time: int = 0  # ms; messages older than this leave the history (0: no time limit)
    message_max: int = 65536  # the largest message accepted by publish (bytes)
    queue_size: int = 262144  # the default bytes queued per subscriber before the overflow policy applies
    sharded: bool = False  # Redis 7 sharded pub/sub (SSUBSCRIBE / SPUBLISH)


@dataclass
class HttpConf:
    settings: HttpSettings = field(default_factory=HttpSettings)
    servers: List[ServerConf] = field(default_factory=list)
    shared_dicts: List[Tuple[str, int]] = field(default_factory=list)  # lua_shared_dict name size
    channels: Optional[ChannelsConf] = None  # None: no `channels` directive (no broker process)


@dataclass
class ErrorLogConf:
    path: str  # absolute path, or "stderr"
    level: str = "error"


@dataclass
class MainConf:
    prefix: str
    conf_file: str
    worker_processes: int = 1
    daemon: bool = True
    pid: str = ""  # absolute; default <prefix>/logs/nginx.pid
    error_log: List[ErrorLogConf] = field(default_factory=list)
    worker_connections: int = 512
    worker_shutdown_timeout: Optional[int] = None  # ms; None = wait forever
    worker_rlimit_nofile: Optional[int] = None
    # entries as given (`?.py` templates), relative ones made absolute under the prefix;
    # a ";;" entry marks where the default sys.path goes (as in lua_package_path)
    python_path: List[str] = field(default_factory=list)
    init_by_python: Optional[str] = None  # "module:function"
    init_worker_by_python: Optional[str] = None
    http: HttpConf = field(default_factory=HttpConf)
    # what the configuration warns of once loaded, as nginx's conf-time [alert] lines (file:line included)
    alerts: List[str] = field(default_factory=list)
