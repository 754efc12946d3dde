"""A content_by_python_file WebSocket handler: the echo server, type-checked, never run."""
from __future__ import annotations

from cosocket import ngx
from websocket import server

wb, err = server.new(timeout=60000, max_payload_len=65535, protocols=["chat"])
if wb is None:
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    ngx.exit(400)  # never returns: wb is a WebSocketServer below

ngx.log(ngx.INFO, "subprotocol: ", wb.protocol or "none")
while True:
    data, typ, err = wb.recv_message()
    if data is None:
        if isinstance(err, str) and "timeout" in err:
            break
        ngx.exit(ngx.OK)
    if typ == "close":
        code = err if isinstance(err, int) else 1000
        ngx.log(ngx.INFO, "closed with ", code, ": ", data)
        ngx.exit(ngx.OK)
    if typ == "ping":
        wb.send_pong(data)
        continue
    sent, err = wb.send_text(data) if typ == "text" else wb.send_binary(data)
    if sent is None:
        ngx.log(ngx.ERR, "failed to echo: ", err)
        ngx.exit(ngx.OK)
ok, err = wb.close(1001, "idle")
