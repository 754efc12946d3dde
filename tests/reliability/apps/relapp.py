"""Handlers of the reliability tests (content_by_python relapp:NAME)."""
import hashlib
import os
import time

from cosocket import ngx
from websocket import server


def ws_echo():
    """Echo data frames with recv_frame; /ws?t=MS sets the read timeout (default 1000 ms)."""
    t = int(ngx.var.arg_t or 1000)
    wb, err = server.new(timeout=t, max_payload_len=65535)
    if wb is None:
        ngx.log(ngx.ERR, "failed to new websocket: ", err)
        return ngx.exit(400)
    while True:
        data, typ, err = wb.recv_frame()
        if data is None:
            ngx.log(ngx.INFO, "ws_echo ended: ", err)
            return
        if typ == "close":
            wb.send_close()
            return
        if typ == "ping":
            wb.send_pong(data)
        elif typ in ("text", "binary"):
            if data == "pid":
                data = str(os.getpid())
            elif data.startswith("spin:"):  # burn the CPU without yielding, then answer
                end = time.monotonic() + int(data[5:]) / 1000.0
                while time.monotonic() < end:
                    pass
            sent, err = wb.send_text(data) if typ == "text" else wb.send_binary(data)
            if sent is None:
                ngx.log(ngx.INFO, "ws_echo send failed: ", err)
                return


def ws_flood():
    """Send 64 KiB binary frames until a send fails; logs how it ended and how long the failing send took.

    ?t=MS is the socket timeout given to server.new (it bounds each send, as tcpsock:settimeout does)."""
    wb, err = server.new(timeout=int(ngx.var.arg_t or 5000), max_payload_len=1 << 20)
    if wb is None:
        return ngx.exit(400)
    chunk = b"x" * 65536
    sent_total = 0
    while True:
        t0 = time.monotonic()
        sent, err = wb.send_binary(chunk)
        if sent is None:
            ngx.log(ngx.NOTICE, "flood stopped after %d bytes in %.3f s: %s"
                    % (sent_total, time.monotonic() - t0, err))
            return
        sent_total += sent


def pid():
    ngx.say(os.getpid())


def boom():
    raise RuntimeError("handler exploded on purpose")


def spin():
    """Burn the CPU for ?ms= milliseconds without yielding."""
    end = time.monotonic() + int(ngx.var.arg_ms or 300) / 1000.0
    while time.monotonic() < end:
        pass
    ngx.say("spun")


def leak_threads():
    """Spawn light threads that are never waited for; answer at once."""
    def forever():
        while True:
            ngx.sleep(0.05)
    for _ in range(20):
        ngx.thread.spawn(forever)
    ngx.say("leaked")


def header_crlf():
    """Set response headers whose names and values carry CR/LF (header injection attempts)."""
    ngx.header["X-Value"] = "a\r\nSet-Cookie: evil=1"
    ngx.header["X-Name\r\nInjected"] = "v"
    ngx.header["X-List"] = ["ok", "b\nX-Evil: 1"]
    ngx.say("body")


def sha():
    """The sha1 hex of the request body."""
    ngx.req.read_body()
    ngx.say(hashlib.sha1(ngx.req.get_body_data() or b"").hexdigest())


def ws_message():
    """Echo whole messages (recv_message) with max_payload_len 4096 and max_message_len 8192."""
    wb, err = server.new(timeout=2000, max_payload_len=4096, max_message_len=8192)
    if wb is None:
        return ngx.exit(400)
    while True:
        data, typ, err = wb.recv_message()
        if data is None:
            ngx.log(ngx.INFO, "ws_message ended: ", err)
            return
        if typ == "close":
            return
        wb.send_text(data) if typ == "text" else wb.send_binary(data)


def body_socket():
    """Read the body through ngx.req.socket(): one receive() of the whole Content-Length."""
    sock, err = ngx.req.socket()
    if sock is None:
        ngx.say("no socket: ", err)
        return
    sock.settimeout(5000)
    data, err, partial = sock.receive(int(ngx.var.http_content_length))
    ngx.say(len(data) if data is not None else "failed: %s after %d" % (err, len(partial or b"")))
