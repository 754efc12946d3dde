# cs.t TEST 28: an invalid close status code is refused before anything is sent.
from cosocket import ngx
from websocket import server

wb, err = server.new()
if wb is None:
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    ngx.exit(444)
bytes_, err = wb.send_close(0xf000, "client, let's close!")
if bytes_ is None:
    ngx.log(ngx.ERR, "failed to send close: ", err)
    ngx.exit(444)
