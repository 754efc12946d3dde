# cs.t TEST 1/2/15/16: receive, send "copy: ...", receive (?s=server path, ?unmasked=1, ?kind=binary).
from cosocket import ngx
from websocket import client

args = ngx.req.get_uri_args()
wb, err = client.new(send_unmasked=bool(args.get("unmasked")))
uri = "ws://127.0.0.1:" + ngx.var.server_port + args.get("s", "/s_hello")
ok, err, res = wb.connect(uri)
if not ok:
    ngx.say("failed to connect: " + err)
    ngx.exit(ngx.OK)

data, typ, err = wb.recv_frame()
if data is None:
    ngx.say("failed to receive 1st frame: ", err)
    ngx.exit(ngx.OK)
ngx.say("1: received: ", data, " (", typ, ")")

send = wb.send_binary if typ == "binary" else wb.send_text
copy = b"copy: " + data if isinstance(data, bytes) else "copy: " + data
bytes_, err = send(copy)
if bytes_ is None:
    ngx.say("failed to send frame: ", err)
    ngx.exit(ngx.OK)

data, typ, err = wb.recv_frame()
if data is None:
    ngx.say("failed to receive 2nd frame: ", err)
    ngx.exit(ngx.OK)
ngx.say("2: received: ", data, " (", typ, ")")
