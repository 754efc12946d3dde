# cs.t TEST 11/12: connect, wait 0.2 s, send a text frame.
from cosocket import ngx
from websocket import client

wb, err = client.new()
uri = "ws://127.0.0.1:" + ngx.var.server_port + "/s_timeout" + ("?" + ngx.var.args if ngx.var.args else "")
ok, err, res = wb.connect(uri)
if not ok:
    ngx.say("failed to connect: " + err)
    ngx.exit(ngx.OK)
ngx.sleep(0.2)
bytes_, err = wb.send_text("你好, WebSocket!")
if bytes_ is None:
    ngx.say("failed to send the 1st text: ", err)
    ngx.exit(444)
ngx.say("ok")
ngx.sleep(0.05)
