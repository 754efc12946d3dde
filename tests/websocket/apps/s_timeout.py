# cs.t TEST 11/12: the server's read times out (set_timeout, or ?mode=ctor: the constructor option).
from cosocket import ngx
from websocket import server

args = ngx.req.get_uri_args()
if args.get("mode") == "ctor":
    wb, err = server.new(timeout=20)
else:
    wb, err = server.new()
if wb is None:
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    ngx.exit(444)
if args.get("mode") != "ctor":
    wb.set_timeout(20)

data, typ, err = wb.recv_frame()
if data is None:
    ngx.log(ngx.ERR, "failed to receive 1st frame: ", err)
else:
    ngx.log(ngx.WARN, "1: received: ", data, " (", typ, ")")

wb.set_timeout(1000)
data, typ, err = wb.recv_frame()
if data is None:
    ngx.log(ngx.ERR, "failed to receive 2nd frame: ", err)
else:
    ngx.log(ngx.WARN, "2: received: ", data, " (", typ, ")")
