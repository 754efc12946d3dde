"""This project's echo handler: lua-resty-websocket's echo loop, line for line in Python."""
from cosocket import ngx
from websocket import server

wb, err = server.new(timeout=60000, max_payload_len=4194304)
if wb is None:
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    ngx.exit(444)

while True:
    data, typ, err = wb.recv_frame()
    if data is None:
        if "timeout" not in err:
            break
    elif typ == "close":
        wb.send_close(1000, "")
        break
    elif typ == "ping":
        wb.send_pong(data)
    elif typ == "text":
        wb.send_text(data)
    elif typ == "binary":
        wb.send_binary(data)
