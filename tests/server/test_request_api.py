"""The request side of the ngx API, through the real server."""
import json
import re

import pytest

from tests.server.conftest import conf
from tests.support.rawhttp import Conn

HTTP = """
    lua_check_client_abort on;
    lua_shared_dict cache 1m;
    server {
        listen 127.0.0.1:{port};
        server_name localhost srv.example;
        location = /info { content_by_python srvapp:echo_info; }
        location = /ctx { content_by_python srvapp:ctx_status; }
        location = /late { content_by_python srvapp:late_status; }
        location = /late_exit { content_by_python srvapp:late_exit; }
        location = /redirect { content_by_python srvapp:redirect; }
        location = /raw { content_by_python srvapp:raw_echo; }
        location = /say_after_raw { content_by_python srvapp:say_after_raw; }
        location = /reader { content_by_python srvapp:body_reader; }
        location = /log { content_by_python srvapp:log_line; }
        location = /shared { content_by_python srvapp:shared_dict; }
        location = /abort { content_by_python srvapp:on_abort_handler; }
        location = /script { content_by_python_file {prefix}/script.py; }
        location = /syntax { content_by_python_file {prefix}/bad.py; }
    }
"""

SCRIPT = '''
from cosocket import ngx
total = 0
for i in range(3):
    total += i
ngx.say("script total=", total)
ngx.exit(ngx.OK)
ngx.say("unreachable")
'''


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from tests.support.serverproc import ServerProcess
    prefix = tmp_path_factory.mktemp("api")
    (prefix / "script.py").write_text(SCRIPT)
    (prefix / "bad.py").write_text("from cosocket import ngx\nngx.say('x'\n")
    s = ServerProcess(prefix, conf(HTTP))
    s.start()
    yield s
    s.stop()


def info(srv, path, **kw):
    with Conn(srv.port) as c:
        r = c.request("POST" if kw.get("body") else "GET", path, **kw)
        assert r.status == 200, r.body
        return json.loads(r.body)


def test_headers_args_and_body(srv):
    got = info(srv, "/info?a=1&b=x%20y&b=2&flag", headers={"X-Test": "v1", "User-Agent": "t/1"}, body=b"payload")
    assert got["method"] == "POST" and got["version"] == 1.1
    assert got["uri_args"] == {"a": "1", "b": ["x y", "2"], "flag": True}
    assert got["headers"]["x-test"] == "v1" and got["headers"]["host"] == "localhost"
    assert got["x_test_ci"] == "v1"  # case-insensitive lookup
    assert got["body"] == "payload"


def test_repeated_request_headers_come_as_a_list(srv):
    with Conn(srv.port) as c:
        c.send(b"GET /info HTTP/1.1\r\nHost: x\r\nX-Rep: 1\r\nX-Rep: 2\r\n\r\n")
        got = json.loads(c.read_response().body)
    assert got["headers"]["x-rep"] == ["1", "2"]


def test_variables(srv):
    got = info(srv, "/info?a=5", headers={"Host": "srv.example:8080", "User-Agent": "agent/2"})
    v = got["var"]
    assert v["uri"] == "/info" and v["request_uri"] == "/info?a=5" and v["args"] == "a=5"
    assert v["host"] == "srv.example" and v["scheme"] == "http" and v["request_method"] == "GET"
    assert v["server_protocol"] == "HTTP/1.1" and v["server_name"] == "localhost"
    assert v["remote_addr"] == "127.0.0.1" and v["remote_port"].isdigit()
    assert v["server_addr"] == "127.0.0.1" and v["server_port"] == str(srv.port)
    assert re.fullmatch(r"[0-9a-f]{32}", v["request_id"])
    assert v["http_user_agent"] == "agent/2" and v["arg_a"] == "5"
    assert v["connection_requests"] == "1"
    assert v["ssl_client_verify"] is None and v["ssl_server_name"] is None


def test_uri_is_decoded_and_normalised(srv):
    got = info(srv, "/x/../%69nfo?q")
    assert got["var"]["uri"] == "/info" and got["var"]["request_uri"] == "/x/../%69nfo?q"


def test_ctx_status_and_header_edits(srv):
    with Conn(srv.port) as c:
        r = c.request("GET", "/ctx")
    assert r.status == 201 and r.body == b"ctx=2 status=201\n"
    assert r.header_all("X-Multi") == ["a", "b"]
    assert r.header("X-Gone") is None
    assert r.header("Content-Type") is None  # removed by the handler: no default_type either


def test_status_and_headers_after_they_were_sent(srv):
    with Conn(srv.port) as c:
        r = c.request("GET", "/late")
    assert r.status == 200 and r.body == b"body\nsent=true again=1\n" and r.header("X-Late") is None
    log = srv.error_log()
    assert "attempt to set ngx.status after sending out response headers" in log
    assert "attempt to set ngx.header.HEADER after sending out response headers" in log


def test_exit_after_the_head_was_sent_is_logged_with_the_request_context(srv):
    with Conn(srv.port) as c:
        r = c.request("GET", "/late_exit")
    assert r.status == 200 and r.body == b"body\n"
    line = [x for x in srv.error_log().splitlines() if "via ngx.exit" in x][-1]
    assert re.search(r"\[error\] \d+#\d+: \*\d+ attempt to set status 404 via ngx.exit after sending out the "
                     r"response status 200, client: 127\.0\.0\.1, server: localhost, "
                     r'request: "GET /late_exit HTTP/1\.1", host: "[^"]+"$', line), line


def test_redirect(srv):
    with Conn(srv.port) as c:
        r = c.request("GET", "/redirect")
    assert r.status == 301 and r.header("Location") == "/elsewhere"


def test_raw_request_socket_is_full_duplex(srv):
    with Conn(srv.port) as c:
        c.send(b"GET /raw HTTP/1.1\r\nHost: x\r\n\r\nline1\n")  # a pipelined line stays in the buffer
        version, status, reason, headers, _ = c.read_head()
        assert (status, reason) == (101, "Switching Protocols")
        hdrs = {k.lower(): v for k, v in headers}
        assert hdrs["upgrade"] == "test" and hdrs["connection"] == "upgrade"
        assert "content-type" not in hdrs and "content-length" not in hdrs
        assert c._read_until(b"\n") == b"dup=duplicate call\n"
        assert c._read_until(b"\n") == b"echo:line1\n"
        c.send(b"line2\n")
        assert c._read_until(b"\n") == b"echo:line2\n"
        c.send(b"quit\n")
        assert c.is_closed()


def test_output_after_taking_the_raw_socket_is_refused(srv):
    with Conn(srv.port) as c:
        c.send(b"GET /say_after_raw HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c._read_until(b"\n") == b"say=None,raw request socket acquired\n"  # no head was sent


def test_body_reader_socket(srv):
    with Conn(srv.port) as c:
        r = c.request("POST", "/reader", body=b"helloworld")
        assert r.body == b"first=hello rest=world\n"
        r = c.request("GET", "/reader")
        assert r.body == b"err=no body\n"


def test_content_by_python_file_runs_the_script_per_request(srv):
    with Conn(srv.port) as c:
        assert c.request("GET", "/script").body == b"script total=3\n"
        assert c.request("GET", "/script").body == b"script total=3\n"


def test_script_syntax_error_gives_500_and_a_log_line(srv):
    with Conn(srv.port) as c:
        assert c.request("GET", "/syntax").status == 500
    assert re.search(r'\[error\] .*failed to load external Python file ".*bad\.py": .*bad\.py:2: SyntaxError',
                     srv.error_log())


def test_ngx_log_line_shape(srv):
    with Conn(srv.port) as c:
        assert c.request("GET", "/log", headers={"Host": "localhost"}).body == b"logged\n"
    line = [l for l in srv.error_log().splitlines() if "custom warning" in l][0]
    assert re.fullmatch(
        r'\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[warn\] (\d+)#\1: \*\d+ \[python\] srvapp\.py:\d+: custom warning 42, '
        r'client: 127\.0\.0\.1, server: localhost, request: "GET /log HTTP/1\.1", host: "localhost"', line)
    assert "not written at the info level" not in srv.error_log()


def test_access_log_line_shape(srv):
    with Conn(srv.port) as c:
        c.request("GET", "/log?x=1", headers={"Referer": "http://r/", "User-Agent": 'ua "quoted"'})
    import time
    time.sleep(0.05)
    lines = (srv.prefix / "logs" / "access.log").read_text().splitlines()
    line = [l for l in lines if "/log?x=1" in l][0]
    assert re.fullmatch(r'127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /log\?x=1 HTTP/1\.1" '
                        r'200 7 "http://r/" "ua \\x22quoted\\x22"', line)


def test_shared_dict_in_a_request(srv):
    with Conn(srv.port) as c:
        assert c.request("GET", "/shared").body == b"false exists 6 6\n"


def test_on_abort_runs_when_the_client_goes_away(srv):
    import time
    c = Conn(srv.port)
    c.send(b"GET /abort HTTP/1.1\r\nHost: x\r\n\r\n")
    c._read_until(b"on_abort=1,nil\n")
    c.close()
    deadline = time.monotonic() + 2
    while "client went away" not in srv.error_log() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "client went away" in srv.error_log()


def test_request_api_outside_a_request_raises():
    from cosocket import ngx
    for call in (lambda: ngx.say("x"), lambda: ngx.req.get_headers(), lambda: ngx.var.uri,
                 lambda: ngx.exit(200), lambda: ngx.header.foo):
        with pytest.raises(RuntimeError, match="not available"):
            call()
