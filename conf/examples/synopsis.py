# The synopsis of lua-resty-websocket v0.13 ported line by line (synopsis.lua beside
# this file).  Run it with:   location /s { content_by_python_file conf/examples/synopsis.py; }
# Differences a porter meets: `not data` becomes `data is None` (an empty payload is
# falsy in Python), `return ngx.exit(444)` becomes `ngx.exit(444)` (it never returns),
# and a top-level `return` becomes `ngx.exit(ngx.OK)`.
from cosocket import ngx
from websocket import server

wb, err = server.new({
    "timeout": 5000,  # in milliseconds
    "max_payload_len": 65535,
})
if wb is None:
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    ngx.exit(444)

data, typ, err = wb.recv_frame()

if data is None:
    if "timeout" not in err:
        ngx.log(ngx.ERR, "failed to receive a frame: ", err)
        ngx.exit(444)

if typ == "close":
    # for typ "close", err contains the status code
    code = err

    # send a close frame back:

    bytes_, err = wb.send_close(1000, "enough, enough!")
    if bytes_ is None:
        ngx.log(ngx.ERR, "failed to send the close frame: ", err)
        ngx.exit(ngx.OK)
    ngx.log(ngx.INFO, "closing with status code ", code, " and message ", data)
    ngx.exit(ngx.OK)

if typ == "ping":
    # send a pong frame back:

    bytes_, err = wb.send_pong(data)
    if bytes_ is None:
        ngx.log(ngx.ERR, "failed to send frame: ", err)
        ngx.exit(ngx.OK)
elif typ == "pong":
    # just discard the incoming pong frame
    pass

else:
    ngx.log(ngx.INFO, "received a frame of type ", typ, " and payload ", data)

wb.set_timeout(1000)  # change the network timeout to 1 second

bytes_, err = wb.send_text("Hello world")
if bytes_ is None:
    ngx.log(ngx.ERR, "failed to send a text frame: ", err)
    ngx.exit(444)

bytes_, err = wb.send_binary("blah blah blah...")
if bytes_ is None:
    ngx.log(ngx.ERR, "failed to send a binary frame: ", err)
    ngx.exit(444)

bytes_, err = wb.send_close(1000, "enough, enough!")
if bytes_ is None:
    ngx.log(ngx.ERR, "failed to send the close frame: ", err)
    ngx.exit(ngx.OK)
