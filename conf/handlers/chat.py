# The chat room served at /chat: every text message a client sends is delivered, unchanged and once, to
# every client connected to /chat (the sender included), on whichever worker holds it.
from cosocket import ngx
from websocket import channels, server

wb, err = server.new(timeout=60000)  # 60 s idle
if wb is None:
    ngx.log(ngx.INFO, "failed to new websocket: ", err)
    ngx.exit(400)

ok, err = channels.attach(wb, "chat")  # the worker writes every "chat" message to this client
if not ok:
    ngx.log(ngx.ERR, "failed to join the chat: ", err)
    wb.close(1011, "chat unavailable")
    ngx.exit(ngx.OK)

while True:
    data, typ, err = wb.recv_message()
    if data is None or typ == "close":
        break  # leaving: the attachment ends with the connection
    if typ == "text":
        ok, err = channels.publish("chat", data)
        if not ok:
            ngx.log(ngx.ERR, "failed to publish: ", err)
            wb.close(1011, "chat unavailable")
            break
if data is None and "timeout" in err:
    wb.close(1001, "idle")
