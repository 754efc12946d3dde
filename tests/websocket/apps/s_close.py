# cs.t TEST 3/4/17/18: send a close frame (?code=&msg=), log the peer's close frame, close back.
from cosocket import ngx
from websocket import server

args = ngx.req.get_uri_args()
wb, err = server.new()
if wb is None:
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    ngx.exit(444)

code = args.get("code")
bytes_, err = wb.send_close(int(code) if code else None, args.get("msg"))
if bytes_ is None:
    ngx.log(ngx.ERR, "failed to send the 1st text: ", err)
    ngx.exit(444)

data, typ, err = wb.recv_frame()
if data is None:
    ngx.log(ngx.ERR, "failed to receive a frame: ", err)
    ngx.exit(444)
ngx.log(ngx.WARN, "received: ", typ, ": ", data, ": ", err)
wb.send_close()
