# cs.t TEST 27, 30-37: report the handshake request (headers, host, SNI) as one JSON text frame.
import json

from cosocket import ngx
from websocket import server

if ngx.req.get_uri_args().get("custom_header"):
    ngx.header["X-My-Custom-Header"] = "test"  # cs.t TEST 38
wb, err = server.new()
if wb is None:
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    ngx.exit(444)

headers = dict(ngx.req.get_headers())
for k, v in headers.items():
    ngx.log(ngx.NOTICE, "%s = %s" % (k, v))
ngx.log(ngx.INFO, "host: <", ngx.var.http_host, ">")
ngx.log(ngx.INFO, "SSL server name: <", ngx.var.ssl_server_name, ">")
info = {"headers": headers, "host": ngx.var.http_host, "sni": ngx.var.ssl_server_name,
        "uri": ngx.var.request_uri, "client_verify": ngx.var.ssl_client_verify}
wb.send_text(json.dumps(info))
wb.recv_frame()
