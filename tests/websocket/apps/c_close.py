# cs.t TEST 3/4/17/18: receive the server's close frame, answer it (?code=&msg=), ?call=close uses close().
from cosocket import ngx
from websocket import client

args = ngx.req.get_uri_args()
wb, err = client.new()
uri = "ws://127.0.0.1:" + ngx.var.server_port + args.get("s", "/s_close")
ok, err, res = wb.connect(uri)
if not ok:
    ngx.say("failed to connect: " + err)
    ngx.exit(ngx.OK)

data, typ, err = wb.recv_frame()
if data is None:
    ngx.say("failed to receive 1st frame: ", err)
    ngx.exit(ngx.OK)
ngx.say("received ", typ, ": ", data, ": ", err)

if args.get("call") != "close_only":
    code = args.get("code")
    bytes_, err = wb.send_close(int(code) if code else None, args.get("msg"))
    if bytes_ is None:
        ngx.say("failed to send frame: ", err)
        ngx.exit(ngx.OK)

if args.get("call") in ("close", "close_only"):
    ok, err = wb.close()
    if not ok:
        ngx.say("failed to close: ", err)
        ngx.exit(ngx.OK)
    ngx.say("successfully closed the TCP connection")
else:
    wb.recv_frame()  # the server's close frame
