# cs.t TEST 5-8: receive the ping/pong, answer a ping with a pong carrying the same payload.
from cosocket import ngx
from websocket import client

args = ngx.req.get_uri_args()
wb, err = client.new()
uri = "ws://127.0.0.1:" + ngx.var.server_port + "/s_ping" + ("?" + ngx.var.args if ngx.var.args else "")
ok, err, res = wb.connect(uri)
if not ok:
    ngx.say("failed to connect: " + err)
    ngx.exit(ngx.OK)

data, typ, err = wb.recv_frame()
if data is None:
    ngx.say("failed to receive 1st frame: ", err)
    ngx.exit(ngx.OK)
ngx.say("received ", typ, ": ", data, ": ", err)

if typ == "ping":
    bytes_, err = wb.send_pong(data)
else:
    bytes_, err = wb.send_ping(b"ping back")
if bytes_ is None:
    ngx.say("failed to send frame: ", err)
