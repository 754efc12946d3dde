"""What one configuration file wrote, block by block (the parse state), and its merging into the model.

Each http/server/location block records only the settings written in it;
`finish` merges them downwards (http -> server -> location), so every
`ServerConf` and `LocationConf` carries complete `HttpSettings`.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ..confmodel import (AccessLogConf, ChannelsConf, ErrorLogConf, HandlerConf, HttpConf, HttpSettings,
                        ListenConf, LocationConf, MainConf, ServerConf, ServerSslConf)
from .conflex import ConfError


@dataclass
class Level:
    """Settings written in one http, server or location block (merged later)."""

    values: Dict[str, object] = field(default_factory=dict)  # HttpSettings field, or "socket.<field>"
    access_logs: List[AccessLogConf] = field(default_factory=list)
    access_off: bool = False
    ssl: Dict[str, object] = field(default_factory=dict)  # ServerSslConf field -> value (http, server)


@dataclass
class RawLocation:
    modifier: str
    pattern: str
    level: Level
    file: str
    line: int
    handler: Optional[HandlerConf] = None
    return_: Optional[Tuple[int, Optional[str]]] = None


@dataclass
class RawServer:
    level: Level
    file: str
    line: int
    listens: List[Tuple[ListenConf, str, int, bool]] = field(default_factory=list)  # conf, file, line, opts set
    names: List[str] = field(default_factory=list)
    locations: List[RawLocation] = field(default_factory=list)
    return_: Optional[Tuple[int, Optional[str]]] = None


@dataclass
class RawHttp:
    level: Level = field(default_factory=Level)
    servers: List[RawServer] = field(default_factory=list)
    shared_dicts: List[Tuple[str, int]] = field(default_factory=list)
    channels: dict = field(default_factory=dict)  # the channels* directives seen: name -> parsed value


@dataclass
class Ctx:
    """Where a directive is being read: its context name and the blocks around it."""

    kind: str  # main | events | http | server | location | types
    http: Optional[RawHttp] = None
    server: Optional[RawServer] = None
    location: Optional[RawLocation] = None

    @property
    def level(self) -> Level:
        return (self.location or self.server or self.http).level


_SOCKET_FIELDS = {f.name for f in dataclasses.fields(HttpSettings().socket)}


def merge(parent: HttpSettings, level: Level) -> HttpSettings:
    """`parent` with the values written at `level` applied (a new, independent object)."""
    settings = parent.copy()
    for key, value in level.values.items():
        if key.startswith("socket."):
            setattr(settings.socket, key[7:], value)
        else:
            setattr(settings, key, value)
    if level.access_off:
        settings.access_log = []
    elif level.access_logs:
        settings.access_log = list(level.access_logs)
    elif settings.access_log is not None:
        settings.access_log = list(settings.access_log)
    return settings


def channels_conf(p, seen: dict) -> Optional[ChannelsConf]:
    """The ChannelsConf of the http block, None when no `channels` directive enables them."""
    if "channels" not in seen:
        if seen:
            name, file, line = seen[""]
            raise ConfError('"%s" directive needs "channels" in the same http block' % name, file, line)
        return None
    cc = ChannelsConf(backend=seen["channels"])
    cc.socket = seen.get("channels_socket") or p.prefix_path("logs/channels.sock")
    cc.history_messages, cc.history_time = seen.get("channels_history", (0, 0))
    cc.message_max = seen.get("channels_message_max", cc.message_max)
    cc.queue_size = seen.get("channels_queue_size", cc.queue_size)
    cc.sharded = seen.get("channels_sharded", False)
    return cc


def finish(p) -> MainConf:
    main = p.main
    if not main.pid:
        main.pid = p.prefix_path("logs/nginx.pid")
    if not main.error_log:
        main.error_log = [ErrorLogConf(path=p.prefix_path("logs/error.log"), level="error")]
    if p.http is None:
        return main
    http = p.http
    http_settings = merge(HttpSettings(), http.level)
    main.http = HttpConf(settings=http_settings, shared_dicts=list(http.shared_dicts))
    main.http.channels = channels_conf(p, http.channels)
    ssl_keys: Dict[str, ListenConf] = {}
    for raw in http.servers:
        main.http.servers.append(finish_server(p, raw, http_settings, http.level.ssl, ssl_keys))
    # nginx keeps one socket per address: options given on any listen apply to all of them
    by_key: Dict[str, List[ListenConf]] = {}
    for server in main.http.servers:
        for listen in server.listens:
            by_key.setdefault(listen.key, []).append(listen)
    for listens in by_key.values():
        ssl = any(l.ssl for l in listens)
        reuseport = any(l.reuseport for l in listens)
        backlog = next((l.backlog for l in listens if l.backlog != 511), 511)
        for listen in listens:
            listen.ssl, listen.reuseport, listen.backlog = ssl, reuseport, backlog
    return main


def finish_server(p, raw: RawServer, http_settings: HttpSettings, http_ssl: dict,
                   ssl_keys: dict) -> ServerConf:
    settings = merge(http_settings, raw.level)
    ssl = ServerSslConf(**{**http_ssl, **raw.level.ssl})
    listens = [conf for conf, _, _, _ in raw.listens]
    if not listens:
        listens = [ListenConf(host=None, port=80 if os.geteuid() == 0 else 8000)]
    if any(l.ssl for l in listens):
        if ssl.certificate is None:
            raise ConfError('no "ssl_certificate" is defined for the "listen ... ssl" directive in %s:%d'
                            % (raw.file, raw.line), where=False)
    if ssl.certificate is not None and ssl.certificate_key is None:
        raise ConfError('no "ssl_certificate_key" is defined for certificate "%s"' % ssl.certificate,
                        where=False)
    if ssl.verify_client in ("on", "optional") and ssl.client_certificate is None:
        raise ConfError("no ssl_client_certificate or ssl_trusted_certificate for ssl_verify_client",
                        where=False)
    seen: Dict[Tuple[str, str], RawLocation] = {}
    locations = []
    for loc in raw.locations:
        if loc.modifier not in ("~", "~*"):
            kind = "exact" if loc.modifier == "=" else "prefix"
            if (kind, loc.pattern) in seen:
                raise ConfError('duplicate location "%s" in %s:%d' % (loc.pattern, loc.file, loc.line),
                                where=False)
            seen[(kind, loc.pattern)] = loc
        locations.append(LocationConf(modifier=loc.modifier, pattern=loc.pattern,
                                      settings=merge(settings, loc.level), handler=loc.handler,
                                      return_=loc.return_, file=loc.file, line=loc.line))
    server = ServerConf(listens=listens, server_names=raw.names or [""], settings=settings,
                        locations=locations, ssl=ssl, file=raw.file, line=raw.line, return_=raw.return_)
    return server
