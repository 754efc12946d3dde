# cs.t TEST 13: three connects through one pool: the 2nd and 3rd reuse the connection.
from cosocket import ngx
from websocket import client

wb, err = client.new()
connect_opts = {
    # a unique keepalive pool name so that the first connection is not reused
    "pool": ngx.var.request_id,
}
for i in range(1, 4):
    uri = "ws://127.0.0.1:" + ngx.var.server_port + "/s_echo"
    ok, err, res = wb.connect(uri, connect_opts)
    if not ok:
        ngx.say("failed to connect: " + err)
        ngx.exit(ngx.OK)
    if res == "connection reused":
        ngx.say(res)
    else:
        ngx.say("new connection")

    data = "hello %d" % i
    bytes_, err = wb.send_text(data)
    if bytes_ is None:
        ngx.say("failed to send frame: ", err)
        ngx.exit(ngx.OK)
    data, typ, err = wb.recv_frame()
    if data is None:
        ngx.say("failed to receive 2nd frame: ", err)
        ngx.exit(ngx.OK)
    ngx.say("received: ", data, " (", typ, ")")

    ok, err = wb.set_keepalive()
    if not ok:
        ngx.say("failed to recycle conn: ", err)
        ngx.exit(ngx.OK)
