# cs.t TEST 1/2/15: send a greeting, receive a frame, send it back (?kind=binary, ?masked=1).
from cosocket import ngx
from websocket import server

args = ngx.req.get_uri_args()
wb, err = server.new(send_masked=bool(args.get("masked")))
if wb is None:
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    ngx.exit(444)

send = wb.send_binary if args.get("kind") == "binary" else wb.send_text
bytes_, err = send("你好, WebSocket!")
if bytes_ is None:
    ngx.log(ngx.ERR, "failed to send the 1st text: ", err)
    ngx.exit(444)

data, typ, err = wb.recv_frame()
if data is None:
    ngx.log(ngx.ERR, "failed to receive a frame: ", err)
    ngx.exit(444)

bytes_, err = send(data)
if bytes_ is None:
    ngx.log(ngx.ERR, "failed to send the 2nd text: ", err)
    ngx.exit(444)
ngx.sleep(0.001)
