# The client example of lua-resty-websocket v0.13 ported line by line (client.lua
# beside this file):   location /c { content_by_python_file conf/examples/client.py; }
from cosocket import ngx
from websocket import client

wb, err = client.new()
uri = "ws://127.0.0.1:" + ngx.var.server_port + "/s"
ok, err, res = wb.connect(uri)
if not ok:
    ngx.say("failed to connect: " + err)
    ngx.exit(ngx.OK)

data, typ, err = wb.recv_frame()
if data is None:
    ngx.say("failed to receive the frame: ", err)
    ngx.exit(ngx.OK)

ngx.say("received: ", data, " (", typ, "): ", err)

bytes_, err = wb.send_text("copy: " + data)
if bytes_ is None:
    ngx.say("failed to send frame: ", err)
    ngx.exit(ngx.OK)

bytes_, err = wb.send_close()
if bytes_ is None:
    ngx.say("failed to send frame: ", err)
    ngx.exit(ngx.OK)
