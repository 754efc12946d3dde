# cs.t TEST 39: the response head on a new connection, "connection reused" from the pool.
import re

from cosocket import ngx
from websocket import client

wb, err = client.new()
uri = "ws://127.0.0.1:" + ngx.var.server_port + "/s_echo"
connect_opts = {"pool": ngx.var.request_id}
ok, err, res = wb.connect(uri, connect_opts)
if not ok:
    ngx.say("failed to connect: ", err)
    ngx.exit(ngx.OK)
if not re.match(r"HTTP/1\.1 101 Switching Protocols\r\n", res):
    ngx.say("invalid response string")
    ngx.exit(ngx.OK)
ok, err = wb.send_text("first connection")
data, typ, err = wb.recv_frame()
ngx.say("received ", typ, " frame: ", data)
ok, err = wb.set_keepalive()
if not ok:
    ngx.say("failed to enable keepalive: ", err)
    ngx.exit(ngx.OK)

wb = client.new()[0]
ok, err, res = wb.connect(uri, connect_opts)
if not ok:
    ngx.say("second connect failed: ", err)
    ngx.exit(ngx.OK)
if res != "connection reused":
    ngx.say("expected 'connection reused' response string")
    ngx.exit(ngx.OK)
ok, err = wb.send_text("reused connection")
data, typ, err = wb.recv_frame()
ngx.say("received ", typ, " frame: ", data)
