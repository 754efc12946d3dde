# The WebSocket echo served at /echo: every message comes back as it came.
# recv_message joins fragments, answers pings, completes the closing handshake
# and refuses anything RFC 6455 forbids (close codes 1002/1007/1009), so this
# loop passes the Autobahn TestSuite (sections 1-7, 9, 10, and 12-13 with compression).
from cosocket import ngx
from websocket import server

wb, err = server.new(timeout=60000, max_payload_len=16 * 1024 * 1024,  # 16 MiB messages, 60 s idle
                     permessage_deflate=True)  # compression when the client offers it (RFC 7692)
if wb is None:
    ngx.log(ngx.INFO, "failed to new websocket: ", err)
    ngx.exit(400)  # not a valid upgrade request: 400, never a half-open upgrade

while True:
    data, typ, err = wb.recv_message()
    if data is None:
        if "timeout" in err:
            break  # idle client: say goodbye
        ngx.log(ngx.INFO, "websocket ended: ", err)
        ngx.exit(ngx.OK)
    if typ == "close":
        ngx.exit(ngx.OK)  # recv_message already answered it and closed the connection
    bytes_, err = wb.send_text(data) if typ == "text" else wb.send_binary(data)
    if bytes_ is None:
        ngx.log(ngx.INFO, "failed to echo: ", err)
        ngx.exit(ngx.OK)
wb.close(1001, "idle")
