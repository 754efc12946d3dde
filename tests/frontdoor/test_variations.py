"""Generated variations of requests (header order and case, whitespace, line ends, lengths, codings), each
sent to Debian's nginx and to this server: both must answer alike (statuses, close, body lengths seen)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.frontdoor.wire import exchange

VARIATIONS = settings(max_examples=60, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
#: The client waits this long for more before it calls a connection open (shorter than the table's: the
#: variations are complete requests, answered at once).
IDLE = 0.35

_eol = st.sampled_from([b"\r\n", b"\n", b"\r\r\n"])
_ows = st.sampled_from([b"", b" ", b"  ", b"\t"])


@st.composite
def requests(draw) -> bytes:
    body = draw(st.binary(max_size=40))
    coding = draw(st.sampled_from(["length", "chunked", "none", "both"]))
    method = draw(st.sampled_from([b"GET", b"POST", b"PUT", b"M-SEARCH", b"Get"]))
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.2"]))
    sp = draw(st.sampled_from([b" ", b"  "]))
    lines = [draw(st.sampled_from([b"Host", b"host", b"HOST"])) + b":" + draw(_ows) + b"example.org" + draw(_ows)]
    if coding in ("length", "both"):
        value = draw(st.sampled_from([b"%d", b"0%d", b"+%d", b"%d ", b"%d, %d"]))
        value = value % ((len(body),) * value.count(b"%d"))
        lines.append(draw(st.sampled_from([b"Content-Length", b"content-length"])) + b":" + draw(_ows) + value)
    if coding in ("chunked", "both"):
        lines.append(b"Transfer-Encoding:" + draw(_ows) + draw(st.sampled_from([b"chunked", b"CHUNKED", b"chunked "])))
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=3)))
        pieces, last = [], 0
        for cut in cuts + [len(body)]:
            if cut > last:
                pieces.append(b"%x\r\n%s\r\n" % (cut - last, body[last:cut]))
                last = cut
        payload = b"".join(pieces) + b"0\r\n\r\n"
    else:
        payload = body if coding == "length" else b""
    for i in range(draw(st.integers(0, 2))):
        lines.append(b"X-Filler-%d:" % i + draw(_ows) + draw(st.text("abc ;=,\t", max_size=8)).encode())
    lines += draw(st.lists(st.sampled_from([
        b"Connection: close", b"Connection: keep-alive", b"NoColon", b"X_Under: 1", b"X: a\x01b", b"Accept: */*",
        b"Host: example.org", b"Content-Length: 0", b"X: tail\r",
    ]), max_size=2))
    lines = draw(st.permutations(lines))
    head = draw(st.sampled_from([b"", b"\r\n"])) + method + sp + b"/p?q=1" + sp + version + draw(_eol)
    head += b"".join(line + draw(_eol) for line in lines) + draw(_eol)
    one = head + payload
    return one * draw(st.integers(1, 2))


@VARIATIONS
@given(data=requests())
def test_nginx_and_this_server_answer_a_variation_alike(nginx, ours, data):
    with ThreadPoolExecutor(2) as pool:
        theirs, mine = pool.map(lambda port: exchange(port, data, idle=IDLE), (nginx.port, ours.port))
    assert mine == theirs, "request %r:\n nginx: %s\n ours:  %s" % (data, theirs, mine)
