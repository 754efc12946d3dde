# The WebSocket echo served at /echo: every message comes back as it came.
from cosocket import ngx
from websocket import server

wb, err = server.new(timeout=30000, max_payload_len=16 * 1024 * 1024)
if wb is None:
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    ngx.exit(444)

while True:
    data, typ, err = wb.recv_frame()
    if data is None:
        if "timeout" in err:
            continue
        ngx.log(ngx.INFO, "websocket ended: ", err)
        break
    if typ == "close":
        wb.send_close(1000 if err is None else err)
        break
    if typ == "ping":
        wb.send_pong(data)
    elif typ in ("text", "binary", "continuation"):
        fin = err != "again"
        opcode = {"text": 1, "binary": 2, "continuation": 0}[typ]
        bytes_, err = wb.send_frame(fin, opcode, data)
        if bytes_ is None:
            break
ngx.exit(ngx.OK)
