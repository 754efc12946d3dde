# limits.t TEST 1-4: ?max_send_len= / ?max_recv_len= on the client, sizes in ?sizes=200,201;
# the server side gets ?srv= (its own query string, e.g. max_send_len=...).
from cosocket import ngx
from websocket import client

args = ngx.req.get_uri_args()
opts = {}
for name in ("max_send_len", "max_recv_len"):
    if args.get(name):
        opts[name] = int(args[name])
wb, err = client.new(opts)
uri = "ws://127.0.0.1:" + ngx.var.server_port + "/s_echo?verbose=1&" + args.get("srv", "")
ok, err, res = wb.connect(uri)
if not ok:
    ngx.say("failed to connect: " + err)
    ngx.exit(ngx.OK)
for size in args["sizes"].split(","):
    frame = "1" * int(size)
    sent, err = wb.send_text(frame)
    if sent is None:
        ngx.say("failed sending a frame of len ", len(frame), ": ", err)
        ngx.exit(ngx.OK)
    ngx.say("sent a frame of len ", len(frame))
    data, typ, err = wb.recv_frame()
    if data is None:
        ngx.say("failed receiving frame: ", err)
        ngx.exit(ngx.OK)
    ngx.say("received ", typ, " frame of len ", len(data))
