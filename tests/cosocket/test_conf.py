"""cosocket.server.conf: the directive table, values and units, nginx's errors, merging and path resolution."""
import os

import pytest

from cosocket.server.conf import ConfError, parse_size, parse_time
from cosocket.confmodel import AccessLogConf, ErrorLogConf, HandlerConf, ResolverConf

from tests.cosocket.confhelpers import error, load, write


def at(prefix, line):
    return " in %s:%d" % (prefix / "conf" / "nginx.conf", line)


def server(prefix, body, http=""):
    return load(prefix, "http {\n%s\nserver {\n%s\n}\n}\n" % (http, body)).http.servers[0]


# --------------------------------------------------------------------------- units

@pytest.mark.parametrize("text, ms", [("10", 10000), ("10s", 10000), ("500ms", 500), ("1m", 60000),
                                      ("1h", 3600000), ("1d", 86400000), ("1h 30m", 5400000),
                                      ("1m30s", 90000), ("0", 0), ("2w", 14 * 86400000)])
def test_parse_time(text, ms):
    assert parse_time(text) == ms


@pytest.mark.parametrize("text", ["", "abc", "1x", "s", "1s1m", "1s 1s", "-1", "1.5s", " 1s"])
def test_parse_time_rejects(text):
    with pytest.raises(ValueError):
        parse_time(text)


@pytest.mark.parametrize("text, size", [("8k", 8192), ("8K", 8192), ("1m", 1048576), ("1g", 1 << 30),
                                        ("100", 100), ("0", 0)])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "1kb", "k", "1.5k", "-1", "1t"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError):
        parse_size(text)


# --------------------------------------------------------------------------- defaults and main context

def test_defaults(tmp_path):
    main = load(tmp_path, "")
    assert main.prefix == str(tmp_path)
    assert main.conf_file == str(tmp_path / "conf" / "nginx.conf")
    assert main.pid == str(tmp_path / "logs" / "nginx.pid")
    assert main.error_log == [ErrorLogConf(str(tmp_path / "logs" / "error.log"), "error")]
    assert main.worker_processes == 1 and main.daemon is True and main.worker_connections == 512
    assert main.http.servers == [] and main.http.settings.access_log is None


def test_main_directives(tmp_path):
    main = load(tmp_path, """
        user nobody nogroup;
        worker_processes 3;
        daemon off;
        pid run/my.pid;
        error_log logs/a.log warn;
        error_log stderr;
        error_log /var/x.log debug;
        worker_shutdown_timeout 2s;
        worker_rlimit_nofile 4096;
        events { worker_connections 64; multi_accept on; use epoll; accept_mutex off; }
    """)
    assert main.worker_processes == 3 and main.daemon is False
    assert main.pid == str(tmp_path / "run" / "my.pid")
    assert main.error_log == [ErrorLogConf(str(tmp_path / "logs" / "a.log"), "warn"),
                              ErrorLogConf("stderr", "error"), ErrorLogConf("/var/x.log", "debug")]
    assert main.worker_shutdown_timeout == 2000 and main.worker_rlimit_nofile == 4096
    assert main.worker_connections == 64


def test_worker_processes_auto(tmp_path):
    assert load(tmp_path, "worker_processes auto;").worker_processes == (os.cpu_count() or 1)


def test_python_directives(tmp_path):
    main = load(tmp_path, """http {
        python_path "lib/?.py;/abs/?.py;;";
        init_by_python app.boot:init;
        init_worker_by_python app.boot:init_worker;
    }""")
    assert main.python_path == [str(tmp_path / "lib" / "?.py"), "/abs/?.py", ";;"]
    assert main.init_by_python == "app.boot:init" and main.init_worker_by_python == "app.boot:init_worker"


@pytest.mark.parametrize("text, msg, line", [
    ("worker_processes abc;", '"worker_processes" directive invalid value', 1),
    ("worker_processes 1;\nworker_processes 2;", '"worker_processes" directive is duplicate', 2),
    ("daemon maybe;", 'invalid value "maybe" in "daemon" directive, it must be "on" or "off"', 1),
    ("daemon;", 'invalid number of arguments in "daemon" directive', 1),
    ("pid a b;", 'invalid number of arguments in "pid" directive', 1),
    ("error_log x.log loud;", 'invalid log level "loud"', 1),
    ("error_log x.log warn error;", 'duplicate log level "error"', 1),
    ("worker_shutdown_timeout soon;", '"worker_shutdown_timeout" directive invalid value', 1),
    ("events {\n worker_connections many;\n}", 'invalid number "many"', 2),
    ("events { }\nevents { }", '"events" directive is duplicate', 2),
    ("events { use kqueue2; }", 'invalid event type "kqueue2"', 1),
    ("events { listen 80; }", '"listen" directive is not allowed here', 1),
    ("listen 80;", '"listen" directive is not allowed here', 1),
    ("worker_connections 10;", '"worker_connections" directive is not allowed here', 1),
    ("http { worker_processes 1; }", '"worker_processes" directive is not allowed here', 1),
    ("http { }\nhttp { }", '"http" directive is duplicate', 2),
    ("http { init_by_python nocolon; }",
     'invalid value "nocolon" in "init_by_python" directive, it must be "module:function"', 1),
    ("http { python_path a; python_path b; }", '"python_path" directive is duplicate', 1),
])
def test_main_errors(tmp_path, text, msg, line):
    assert error(tmp_path, text) == msg + at(tmp_path, line)


# --------------------------------------------------------------------------- listen and server_name

def listens(tmp_path, *lines):
    body = "\n".join("listen %s;" % l for l in lines)
    return server(tmp_path, body + "\nssl_certificate c.pem; ssl_certificate_key k.pem;").listens


def test_listen_forms(tmp_path):
    ls = listens(tmp_path, "127.0.0.1:8080 ssl reuseport backlog=100 default_server", "8081", "[::1]:8082",
                 "*:8083", "localhost:8084", "10.0.0.1", "unix:logs/s.sock", "[::]:8085 default",
                 "8086 bind deferred so_keepalive=on rcvbuf=8k sndbuf=8k ipv6only=on")
    assert [(l.host, l.port, l.unix) for l in ls] == [
        ("127.0.0.1", 8080, None), (None, 8081, None), ("::1", 8082, None), (None, 8083, None),
        ("localhost", 8084, None), ("10.0.0.1", 80, None), (None, None, str(tmp_path / "logs" / "s.sock")),
        ("::", 8085, None), (None, 8086, None)]
    first = ls[0]
    assert first.ssl and first.reuseport and first.backlog == 100 and first.default_server
    assert ls[1].backlog == 511 and not ls[1].ssl
    assert ls[2].key == "[::1]:8082" and ls[6].key == "unix:" + str(tmp_path / "logs" / "s.sock")
    assert ls[7].default_server


def test_listen_ssl_needs_certificate(tmp_path):
    with pytest.raises(ConfError) as info:
        load(tmp_path, "http {\n\n server {\n  listen 8443 ssl;\n }\n}\n")
    assert str(info.value) == ('no "ssl_certificate" is defined for the "listen ... ssl" directive'
                               + at(tmp_path, 3))


def test_certificate_needs_key(tmp_path):
    with pytest.raises(ConfError) as info:
        server(tmp_path, "listen 8443 ssl; ssl_certificate a.pem;")
    assert str(info.value) == 'no "ssl_certificate_key" is defined for certificate "%s"' % (
        tmp_path / "conf" / "a.pem")


def test_listen_options_shared_by_servers_on_one_address(tmp_path):
    main = load(tmp_path, """http {
        ssl_certificate c.pem; ssl_certificate_key k.pem;
        server { listen 127.0.0.1:8443 ssl backlog=64; server_name a; }
        server { listen 127.0.0.1:8443; server_name b; }
    }""")
    a, b = (s.listens[0] for s in main.http.servers)
    assert b.ssl and b.backlog == 64 and a.ssl


def test_default_listen_without_directive(tmp_path):
    expected = 80 if os.geteuid() == 0 else 8000
    assert [(l.host, l.port) for l in server(tmp_path, "").listens] == [(None, expected)]


@pytest.mark.parametrize("body, msg", [
    ("listen 127.0.0.1:http;", 'invalid port in "127.0.0.1:http" of the "listen" directive'),
    ("listen 70000;", 'invalid port in "70000" of the "listen" directive'),
    ("listen [::1;", 'invalid host in "[::1" of the "listen" directive'),
    ("listen :80;", 'no host in ":80" of the "listen" directive'),
    ("listen unix:;", 'no path in the unix domain socket in "unix:" of the "listen" directive'),
    ("listen 80 backlog=x;", 'invalid backlog "x"'),
    ("listen 80 backlog=0;", 'invalid backlog "0"'),
    ("listen 80 http3;", 'invalid parameter "http3"'),
    ("listen;", 'invalid number of arguments in "listen" directive'),
    ("listen 80; listen 80;", "a duplicate listen *:80"),
    ("server_name a/b;", 'server name "a/b" is invalid'),
    ("server_name ~;", 'empty regex in server name "~"'),
])
def test_listen_errors(tmp_path, body, msg):
    assert error(tmp_path, "http {\nserver {\n%s\n}\n}\n" % body) == msg + at(tmp_path, 3)


def test_duplicate_listen_options_across_servers(tmp_path):
    msg = error(tmp_path, "http {\nserver { listen 8080 backlog=10; }\nserver { listen 8080 reuseport; }\n}")
    assert msg == "duplicate listen options for *:8080" + at(tmp_path, 3)


def test_duplicate_default_server(tmp_path):
    msg = error(tmp_path, "http {\nserver { listen 8080 default_server; }\nserver { listen 8080 default; }\n}")
    assert msg == "a duplicate default server for *:8080" + at(tmp_path, 3)


def test_server_names(tmp_path):
    s = server(tmp_path, "server_name Example.COM *.example.com example.* ~^w+\\.x$;\nserver_name more;")
    assert s.server_names == ["example.com", "*.example.com", "example.*", "~^w+\\.x$", "more"]
    assert server(tmp_path, "").server_names == [""]


# --------------------------------------------------------------------------- locations, return, handlers

def test_location_modifiers(tmp_path):
    s = server(tmp_path, """
        location / { }
        location = /exact { }
        location ^~ /static/ { }
        location ~ \\.php$ { }
        location ~* \\.(PNG|jpg)$ { }
        location =/glued { }
        location ~*\\.gif$ { }
    """)
    assert [(l.modifier, l.pattern) for l in s.locations] == [
        ("", "/"), ("=", "/exact"), ("^~", "/static/"), ("~", "\\.php$"), ("~*", "\\.(PNG|jpg)$"),
        ("=", "/glued"), ("~*", "\\.gif$")]
    assert s.locations[1].line == 6 and s.locations[1].file == str(tmp_path / "conf" / "nginx.conf")


@pytest.mark.parametrize("body, msg, line", [
    ("location / { }\nlocation / { }", 'duplicate location "/"', 5),
    ("location ^~ /a { }\nlocation /a { }", 'duplicate location "/a"', 5),
    ("location = /a { }\nlocation = /a { }", 'duplicate location "/a"', 5),
])
def test_duplicate_location(tmp_path, body, msg, line):
    assert error(tmp_path, "http {\n\nserver {\n%s\n}\n}\n" % body) == msg + at(tmp_path, line)


def test_exact_and_prefix_with_the_same_uri_are_not_duplicates(tmp_path):
    assert len(server(tmp_path, "location = /a { } location /a { } location ~ /a { } location ~ /a { }")
               .locations) == 4


@pytest.mark.parametrize("body, msg", [
    ("location ~ ^/(a { }", 'pcre2_compile() failed: missing ), unterminated subpattern in "^/(a"'),
    ("location >> /a { }", 'invalid location modifier ">>"'),
    ("location / { location /b { } }",
     'location "/b" cannot be inside location "/" (nested locations are not supported)'),
    ("location @named { }", 'named location "@named" is not supported'),
    ("location a b c { }", 'invalid number of arguments in "location" directive'),
    ("location / { listen 80; }", '"listen" directive is not allowed here'),
    ("content_by_python m:f;", '"content_by_python" directive is not allowed here'),
    ("location / { return abc; }", 'invalid return code "abc"'),
    ("location / { return 1000; }", 'invalid return code "1000"'),
    ("location / { content_by_python m:f; content_by_python_file x.py; }",
     '"content_by_python_file" directive is duplicate'),
    ("location / { content_by_python nocolon; }",
     'invalid value "nocolon" in "content_by_python" directive, it must be "module:function"'),
])
def test_location_errors(tmp_path, body, msg):
    assert error(tmp_path, "http {\nserver {\n%s\n}\n}\n" % body) == msg + at(tmp_path, 3)


def test_return_forms(tmp_path):
    s = server(tmp_path, """
        return 301 https://example.com$request_uri;
        location /a { return 204; }
        location /b { return 200 "text"; }
        location /c { return https://x.example/; }
        location /d { return $scheme://h/; return 404; }
    """)
    assert s.return_ == (301, "https://example.com$request_uri")
    assert [l.return_ for l in s.locations] == [(204, None), (200, "text"), (302, "https://x.example/"),
                                                (302, "$scheme://h/")]


def test_handlers_and_paths(tmp_path):
    s = server(tmp_path, """
        location /f { content_by_python_file handlers/echo.py; }
        location /g { content_by_python_file /abs/h.py; }
        location /m { content_by_python pkg.mod:handle; }
    """)
    f, g, m = (l.handler for l in s.locations)
    assert f == HandlerConf("file", str(tmp_path / "handlers" / "echo.py"), str(tmp_path / "conf" / "nginx.conf"),
                            5)
    assert g.target == "/abs/h.py"
    assert (m.kind, m.target) == ("function", "pkg.mod:handle")


# --------------------------------------------------------------------------- http settings and merging

def test_every_http_setting(tmp_path):
    s = server(tmp_path, "", http="""
        keepalive_timeout 5s 4s;
        keepalive_requests 50;
        send_timeout 1500ms;
        client_header_timeout 300ms;
        client_body_timeout 2;
        client_max_body_size 2m;
        client_header_buffer_size 2k;
        large_client_header_buffers 2 16k;
        server_tokens off;
        lingering_close always;
        lingering_timeout 1s;
        default_type application/octet-stream;
        lua_check_client_abort on;
        types { text/html html htm; image/png png; }
        lua_socket_connect_timeout 100ms;
        lua_socket_send_timeout 200ms;
        lua_socket_read_timeout 300ms;
        lua_socket_buffer_size 8k;
        lua_socket_pool_size 5;
        lua_socket_keepalive_timeout 10s;
        lua_socket_log_errors off;
        lua_ssl_trusted_certificate ca.pem;
        lua_ssl_verify_depth 3;
        resolver 127.0.0.1 [::1]:5353 10.0.0.1:53 valid=30s ipv6=off;
        resolver_timeout 5s;
        lua_shared_dict cache 10m;
        lua_shared_dict locks 100k;
    """)
    st = s.settings
    assert (st.keepalive_timeout, st.keepalive_requests, st.send_timeout) == (5000, 50, 1500)
    assert (st.client_header_timeout, st.client_body_timeout, st.client_max_body_size) == (300, 2000, 2 << 20)
    assert (st.client_header_buffer_size, st.large_client_header_buffers) == (2048, (2, 16384))
    assert (st.server_tokens, st.lingering_close, st.lingering_timeout) == (False, "always", 1000)
    assert st.default_type == "application/octet-stream" and st.lua_check_client_abort is True
    so = st.socket
    assert (so.connect_timeout, so.send_timeout, so.read_timeout) == (100, 200, 300)
    assert (so.buffer_size, so.pool_size, so.keepalive_timeout, so.log_errors) == (8192, 5, 10000, False)
    assert so.ssl_trusted_certificate == str(tmp_path / "conf" / "ca.pem") and so.ssl_verify_depth == 3
    assert so.resolver == ResolverConf([("127.0.0.1", 53), ("::1", 5353), ("10.0.0.1", 53)], True, False, 30000)
    assert so.resolver_timeout == 5000


def test_shared_dicts(tmp_path):
    main = load(tmp_path, "http { lua_shared_dict cache 10m; lua_shared_dict locks 100k; }")
    assert main.http.shared_dicts == [("cache", 10 << 20), ("locks", 100 << 10)]


def test_merging_inner_level_wins_and_copies_are_independent(tmp_path):
    main = load(tmp_path, """http {
        lua_socket_read_timeout 1s;
        send_timeout 2s;
        server {
            listen 8080;
            send_timeout 3s;
            location /a { lua_socket_read_timeout 4s; }
            location /b { }
        }
        server { listen 8081; }
    }""")
    http = main.http.settings
    s1, s2 = main.http.servers
    a, b = s1.locations
    assert (http.send_timeout, http.socket.read_timeout) == (2000, 1000)
    assert (s1.settings.send_timeout, s1.settings.socket.read_timeout) == (3000, 1000)
    assert (a.settings.send_timeout, a.settings.socket.read_timeout) == (3000, 4000)
    assert (b.settings.send_timeout, b.settings.socket.read_timeout) == (3000, 1000)
    assert (s2.settings.send_timeout, s2.settings.socket.read_timeout) == (2000, 1000)
    assert b.settings is not s1.settings and b.settings.socket is not s1.settings.socket
    assert s2.settings.socket is not http.socket


def test_access_log_merging(tmp_path):
    main = load(tmp_path, """http {
        access_log logs/http.log;
        server { listen 8080;
            location /off { access_log off; }
            location /two { access_log /tmp/a.log combined; access_log logs/b.log combined buffer=32k; }
            location /inherit { }
        }
        server { listen 8081; access_log off; }
    }""")
    http_logs = [AccessLogConf(str(tmp_path / "logs" / "http.log"))]
    assert main.http.settings.access_log == http_logs
    off, two, inherit = main.http.servers[0].locations
    assert off.settings.access_log == []
    assert two.settings.access_log == [AccessLogConf("/tmp/a.log"), AccessLogConf(str(tmp_path / "logs" / "b.log"))]
    assert inherit.settings.access_log == http_logs
    assert main.http.servers[1].settings.access_log == []


def test_default_access_log_is_none(tmp_path):
    assert server(tmp_path, "location / { }").locations[0].settings.access_log is None


def test_ssl_settings_merge_from_http(tmp_path):
    s = server(tmp_path, "listen 8443 ssl; ssl_certificate_key /k/server.key; ssl_verify_client optional;",
               http="""ssl_certificate certs/server.pem; ssl_client_certificate certs/ca.pem;
                       ssl_protocols TLSv1.3; ssl_verify_depth 2;""")
    assert s.ssl.certificate == str(tmp_path / "conf" / "certs" / "server.pem")
    assert s.ssl.certificate_key == "/k/server.key"
    assert s.ssl.client_certificate == str(tmp_path / "conf" / "certs" / "ca.pem")
    assert (s.ssl.verify_client, s.ssl.verify_depth, s.ssl.protocols) == ("optional", 2, ["TLSv1.3"])


def test_verify_client_needs_client_certificate(tmp_path):
    with pytest.raises(ConfError) as info:
        server(tmp_path, "ssl_verify_client on;")
    assert str(info.value) == "no ssl_client_certificate or ssl_trusted_certificate for ssl_verify_client"


@pytest.mark.parametrize("line, msg", [
    ("keepalive_timeout abc;", '"keepalive_timeout" directive invalid value'),
    ("keepalive_timeout 1s; keepalive_timeout 2s;", '"keepalive_timeout" directive is duplicate'),
    ("keepalive_requests x;", '"keepalive_requests" directive invalid number'),
    ("send_timeout 5q;", '"send_timeout" directive invalid value'),
    ("client_max_body_size 1.5m;", '"client_max_body_size" directive invalid value'),
    ("large_client_header_buffers 4;", 'invalid number of arguments in "large_client_header_buffers" directive'),
    ("large_client_header_buffers 0 8k;", '"large_client_header_buffers" directive invalid value'),
    ("server_tokens maybe;", 'invalid value "maybe"'),
    ("lingering_close sometimes;", 'invalid value "sometimes"'),
    ("lua_socket_log_errors yes;", 'invalid value "yes" in "lua_socket_log_errors" directive, '
                                   'it must be "on" or "off"'),
    ("lua_socket_pool_size -1;", '"lua_socket_pool_size" directive invalid number'),
    ("lua_socket_buffer_size big;", '"lua_socket_buffer_size" directive invalid value'),
    ("resolver 127.0.0.1 valid=abc;", "invalid parameter: valid=abc"),
    ("resolver 127.0.0.1 ipv6=maybe;", "invalid parameter: ipv6=maybe"),
    ("resolver 127.0.0.1 ipv4=off ipv6=off;", '"ipv4" and "ipv6" cannot both be "off"'),
    ("resolver valid=1s;", "no name servers defined"),
    ("resolver 127.0.0.1:x;", 'invalid port in resolver "127.0.0.1:x"'),
    ("resolver;", 'invalid number of arguments in "resolver" directive'),
    ("access_log x.log main;", 'unknown log format "main"'),
    ("access_log off now;", 'invalid parameter "now"'),
    ("lua_shared_dict d 8191;", 'invalid lua shared dict size "8191"'),
    ("lua_shared_dict d x;", 'invalid lua shared dict size "x"'),
    ("lua_shared_dict d 1m; lua_shared_dict d 2m;", 'lua_shared_dict "d" is already defined as "d"'),
    ("ssl_protocols TLSv9;", 'invalid value "TLSv9"'),
    ("ssl_verify_client sometimes;", 'invalid value "sometimes"'),
    ("listen 80;", '"listen" directive is not allowed here'),
    ("types { text/html html; { }", 'unexpected "{"'),
    ("types { lonely; }", 'invalid number of arguments in "lonely" directive'),
    ("no_such_thing on;", 'unknown directive "no_such_thing"'),
])
def test_http_errors(tmp_path, line, msg):
    assert error(tmp_path, "http {\n%s\n}\n" % line) == msg + at(tmp_path, 2)


def test_server_only_and_http_only_contexts(tmp_path):
    base = "http {\nserver {\nlocation / {\n%s\n}\n}\n}\n"
    assert error(tmp_path, base % "client_header_timeout 1s;") == (
        '"client_header_timeout" directive is not allowed here' + at(tmp_path, 4))
    assert error(tmp_path, base % "lua_shared_dict d 1m;") == (
        '"lua_shared_dict" directive is not allowed here' + at(tmp_path, 4))
    assert error(tmp_path, base % "ssl_certificate x.pem;") == (
        '"ssl_certificate" directive is not allowed here' + at(tmp_path, 4))


def test_types_include_is_read(tmp_path):
    write(tmp_path, "types {\n text/html html;\n}\n", "conf/mime.types")
    write(tmp_path, "text/plain txt;\n bad;\n", "conf/more.types")
    assert load(tmp_path, "http { include mime.types; default_type text/html; }").http.settings.default_type \
        == "text/html"
    with pytest.raises(ConfError) as info:
        load(tmp_path, "http { types { include more.types; } }")
    assert str(info.value) == 'invalid number of arguments in "bad" directive in %s:2' % (
        tmp_path / "conf" / "more.types")
