# cs.t TEST 9/10: wait 0.2 s, then send a text frame.
from cosocket import ngx
from websocket import server

wb, err = server.new()
if wb is None:
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    ngx.exit(444)
ngx.sleep(0.2)
bytes_, err = wb.send_text("你好, WebSocket!")
if bytes_ is None:
    ngx.log(ngx.ERR, "failed to send the 1st text: ", err)
    ngx.exit(444)
ngx.sleep(0.05)
