# Echo with the limits and mode taken from the query string, for the conformance tests:
#   ?mode=message (recv_message, default) | frame (strict recv_frame, each frame sent back as it came,
#    compressed again when it came compressed: one frame, one message)
#   &max_payload_len=N &max_recv_len=N &max_message_len=N &protocols=a,b &close=1 (close with wb.close() after one message)
#   &ping_interval=MS &ping_timeout=MS (heartbeats) &pass_pings=1
#   &deflate=<JSON of the permessage_deflate option> (default: true when served at /deflate, else unset)
#   &plain=1 (send every echo uncompressed) &report=1 (first send the agreed extensions as text)
import json

from cosocket import ngx
from websocket import server

args = ngx.req.get_uri_args()
opts = {"timeout": 2000, "strict": args.get("mode") == "frame"}
if args.get("deflate"):
    opts["permessage_deflate"] = json.loads(args["deflate"])
elif ngx.var.uri == "/deflate":
    opts["permessage_deflate"] = True
for name in ("max_payload_len", "max_recv_len", "max_message_len", "ping_interval", "ping_timeout"):
    if args.get(name):
        opts[name] = int(args[name])
if args.get("protocols"):
    opts["protocols"] = args["protocols"].split(",")
if args.get("pass_pings"):
    opts["pass_pings"] = True
wb, err = server.new(opts)
if wb is None:
    ngx.exit(444)
compress = not args.get("plain")
if args.get("protocols") is not None:
    wb.send_text("protocol=%s" % wb.protocol)
if args.get("report"):
    wb.send_text(json.dumps({"header": wb.extensions, "agreed": wb.permessage_deflate}), compress=False)

OPCODES = {"text": 1, "binary": 2, "continuation": 0, "ping": 10, "pong": 9}
while True:
    if args.get("mode") == "frame":
        data, typ, err = wb.recv_frame()
        if data is None or typ == "close":
            if typ == "close":
                wb.send_close(1000 if err is None else err)
            break
        wb.send_frame(err != "again", OPCODES[typ], data)  # a ping comes back as a pong
        continue
    data, typ, err = wb.recv_message()
    if data is None or typ == "close":
        if data is None:
            ngx.log(ngx.INFO, "recv_message: ", err)
        break
    if typ in ("ping", "pong"):
        wb.send_text("%s:%s" % (typ, data.decode()))
        continue
    (wb.send_text if typ == "text" else wb.send_binary)(data, compress=compress)
    if args.get("close"):
        ok, err = wb.close(4000, "done")
        ngx.log(ngx.WARN, "close: ", ok, " ", err)
        break
