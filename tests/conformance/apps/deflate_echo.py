# Echo with permessage-deflate for the conformance tests; settings from the query string:
#   ?mode=message (recv_message, default) | frame (strict recv_frame, each frame sent back as it came,
#    compressed again when it came compressed: one frame, one message)
#   &deflate=<JSON of the permessage_deflate option> (default: true) &max_payload_len=N &max_message_len=N
#   &plain=1 (send every echo uncompressed) &report=1 (first send the agreed extensions as text)
import json

from cosocket import ngx
from websocket import server

args = ngx.req.get_uri_args()
opts = {"timeout": 2000, "strict": args.get("mode") == "frame",
        "permessage_deflate": json.loads(args["deflate"]) if args.get("deflate") else True}
for name in ("max_payload_len", "max_message_len"):
    if args.get(name):
        opts[name] = int(args[name])
wb, err = server.new(opts)
if wb is None:
    ngx.exit(444)
compress = not args.get("plain")
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
        wb.send_frame(err != "again", OPCODES[typ], data)
        continue
    data, typ, err = wb.recv_message()
    if data is None or typ == "close":
        break
    (wb.send_text if typ == "text" else wb.send_binary)(data, compress=compress)
