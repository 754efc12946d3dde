# cs.t TEST 5-8: send a ping (or ?op=pong) with an optional ?msg=, log what comes back.
from cosocket import ngx
from websocket import server

args = ngx.req.get_uri_args()
wb, err = server.new()
if wb is None:
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    ngx.exit(444)

send = wb.send_pong if args.get("op") == "pong" else wb.send_ping
bytes_, err = send(args.get("msg"))
if bytes_ is None:
    ngx.log(ngx.ERR, "failed to send the 1st frame: ", err)
    ngx.exit(444)

data, typ, err = wb.recv_frame()
if data is None:
    ngx.log(ngx.ERR, "failed to receive a frame: ", err)
    ngx.exit(444)
ngx.log(ngx.WARN, "received: ", typ, ": ", data, ": ", err)
