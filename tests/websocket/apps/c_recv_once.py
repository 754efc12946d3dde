# cs.t TEST 28: receive one frame from ?s= and print it.
from cosocket import ngx
from websocket import client

wb, err = client.new()
uri = "ws://127.0.0.1:" + ngx.var.server_port + ngx.req.get_uri_args().get("s", "/s_badclose")
ok, err, res = wb.connect(uri)
if not ok:
    ngx.say("failed to connect: " + err)
    ngx.exit(ngx.OK)
data, typ, err = wb.recv_frame()
if data is None:
    ngx.say("failed to receive: ", err)
    ngx.exit(ngx.OK)
ngx.say("received ", typ, ": ", data, ": ", err)
