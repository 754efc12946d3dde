"""This project's echo at the message level: `recv_message` with every RFC 6455 rule checked (strict mode).

Text is validated as UTF-8, fragments are sequenced and joined, pings answered,
a close frame answered and the connection ended; the benchmark compares it with
the frame-level echo.py (upstream's loop) to show what the checks cost.
"""
from cosocket import ngx
from websocket import server

wb, err = server.new(timeout=60000, max_payload_len=4194304, strict=True)
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
