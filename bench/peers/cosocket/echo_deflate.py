"""This project's compressing echo: `recv_message` and `send_text`/`send_binary` with permessage-deflate.

`permessage_deflate=True` accepts the client's offer (RFC 7692) with the
server's defaults; every message is inflated on the way in and deflated on the
way out, as in the shipped conf/handlers/echo.py.
"""
from cosocket import ngx
from websocket import server

wb, err = server.new(timeout=60000, max_payload_len=4194304, permessage_deflate=True)
if wb is None:
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    ngx.exit(444)

while True:
    data, typ, err = wb.recv_message()
    if data is None:
        if "timeout" not in err:
            break
    elif typ == "close":
        break
    elif typ == "text":
        wb.send_text(data)
    elif typ == "binary":
        wb.send_binary(data)
