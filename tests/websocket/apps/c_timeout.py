# cs.t TEST 9/10: a read timeout (set_timeout, or ?mode=opt: the timeout option) is not fatal.
from cosocket import ngx
from websocket import client

args = ngx.req.get_uri_args()
if args.get("mode") == "opt":
    wb, err = client.new({"timeout": 50})
else:
    wb, err = client.new()
uri = "ws://127.0.0.1:" + ngx.var.server_port + "/s_sleep_send"
ok, err, res = wb.connect(uri)
if not ok:
    ngx.say("failed to connect: " + err)
    ngx.exit(ngx.OK)

if args.get("mode") != "opt":
    wb.set_timeout(1)

data, typ, err = wb.recv_frame()
if data is None:
    ngx.say("failed to receive 1st frame: ", err)
else:
    ngx.say("1: received: ", data, " (", typ, ")")

wb.set_timeout(1000)
data, typ, err = wb.recv_frame()
if data is None:
    ngx.say("failed to receive 2nd frame: ", err)
else:
    ngx.say("2: received: ", data, " (", typ, ")")
