# cs.t TEST 13/14: echo every data frame back with its type; answer pings and close frames.
from cosocket import ngx
from websocket import server

args = ngx.req.get_uri_args()
opts = {}
for name in ("max_payload_len", "max_send_len", "max_recv_len"):
    if args.get(name):
        opts[name] = int(args[name])
wb, err = server.new(opts)
if wb is None:
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    ngx.exit(444)

while True:
    data, typ, err = wb.recv_frame()
    if data is None:
        if args.get("verbose"):
            ngx.log(ngx.ERR, "failed receiving frame: ", err)
        ngx.exit(444)
    if args.get("verbose"):
        ngx.log(ngx.INFO, "received ", typ, " frame of len ", len(data))
    if typ == "close":
        wb.send_close(1000, "bye")
        ngx.exit(ngx.OK)
    if typ == "ping":
        bytes_, err = wb.send_pong(data)
    elif typ == "binary":
        bytes_, err = wb.send_binary(data)
    elif typ == "text":
        bytes_, err = wb.send_text(data + args.get("pad", ""))
    else:
        continue
    if bytes_ is None:
        ngx.log(ngx.ERR if args.get("verbose") else ngx.INFO, "failed sending frame: ", err)
        ngx.exit(444)
