# cs.t TEST 14: the pool option names the keepalive pool.
from cosocket import ngx
from websocket import client

wb, err = client.new()
uri = "ws://127.0.0.1:" + ngx.var.server_port + "/s_echo"
ok, err, res = wb.connect(uri, {"pool": "my_conn_pool"})
if not ok:
    ok, err, res = wb.connect(uri)
    if not ok:
        ngx.say("failed to connect: " + err)
        ngx.exit(ngx.OK)

bytes_, err = wb.send_text("hello websocket")
if bytes_ is None:
    ngx.say("failed to send: ", err)
    ngx.exit(ngx.OK)
data, typ, err = wb.recv_frame()
if data is None:
    ngx.say("failed to receive 2nd frame: ", err)
    ngx.exit(ngx.OK)
ngx.say("received: ", data, " (", typ, ")")

ok, err = wb.set_keepalive()
if not ok:
    ngx.say("failed to set keepalive: ", err)
