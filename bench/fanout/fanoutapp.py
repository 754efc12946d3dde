"""Handlers of the fan-out benchmark (content_by_python fanoutapp:NAME)."""
from cosocket import ngx, redis
from websocket import channels, server

CHANNEL = "bench"


def _ws():
    wb, err = server.new(timeout=0, max_payload_len=1 << 20)
    if wb is None:
        ngx.exit(400)
    return wb


def _messages(wb):
    """The client's messages until it closes. The read timeout (timeout=0: lua_socket_read_timeout) only
    means the client was quiet, as subscribers and an idle publisher are: keep reading."""
    while True:
        data, typ, err = wb.recv_message()
        if data is None:
            if err is not None and err.endswith("timeout"):
                continue
            return
        if typ == "close":
            return
        yield data


def _until_closed(wb) -> None:
    for _ in _messages(wb):
        pass


def sub():
    """A subscriber: the worker writes every message of the channel to it."""
    wb = _ws()
    channels.attach(wb, CHANNEL)
    _until_closed(wb)


def pub():
    """The publisher: every text it sends is published to the channel."""
    wb = _ws()
    for data in _messages(wb):
        channels.publish(CHANNEL, data)


def _redis():
    red, _ = redis.new()
    red.set_timeouts(5000, 5000, 0)
    ok, err = red.connect("127.0.0.1", int(ngx.var.arg_redis))
    if not ok:
        ngx.log(ngx.ERR, "redis: ", err)
        ngx.exit(500)
    return red


def redis_sub():
    """The classic loop: one SUBSCRIBE connection per subscriber, a light thread forwarding its messages."""
    wb = _ws()
    red = _redis()
    red.subscribe(CHANNEL)

    def forward():
        while True:
            res, err = red.read_reply()
            if res is None:
                if err == "timeout":
                    continue
                return
            if res[0] == b"message":
                if wb.send_text(res[2])[0] is None:
                    return
    t = ngx.thread.spawn(forward)
    _until_closed(wb)
    ngx.thread.kill(t)
    red.close()


def redis_pub():
    """The classic publisher: PUBLISH on one kept connection."""
    wb = _ws()
    red = _redis()
    for data in _messages(wb):
        red.publish(CHANNEL, data)
