# cs.t TEST 19-39: connect with the options given as URI args, print the response head and
# the server's report.  Args: scheme, port, s (server path), protocols (?list=1 splits on ","),
# origin, host, key, server_name, verify, mtls, h (repeatable custom header), pool.
from cosocket import ngx
from websocket import client

args = ngx.req.get_uri_args()
opts = {}
if args.get("protocols"):
    opts["protocols"] = args["protocols"].split(",") if args.get("list") else args["protocols"]
for name in ("origin", "host", "key", "server_name", "pool"):
    if args.get(name):
        opts[name] = args[name]
if args.get("h"):
    opts["headers"] = args["h"] if isinstance(args["h"], list) else [args["h"]]
if args.get("verify"):
    opts["ssl_verify"] = True
if args.get("mtls"):
    with open("certs/client.pem") as f:
        opts["client_cert"] = ngx.ssl.parse_pem_cert(f.read())[0]
    with open("certs/client.key") as f:
        opts["client_priv_key"] = ngx.ssl.parse_pem_priv_key(f.read())[0]

wb, err = client.new(timeout=2000)
scheme = args.get("scheme", "ws")
port = args.get("port", ngx.var.server_port)
uri = scheme + "://127.0.0.1:" + port + args.get("s", "/s_info")
ok, err, res = wb.connect(uri, opts)
if not ok:
    ngx.say("failed to connect: ", err)
    ngx.exit(ngx.OK)
ngx.say(res)
ngx.say("--")
data, typ, err = wb.recv_frame()
if data is None:
    ngx.say("failed to receive: ", err)
    ngx.exit(ngx.OK)
ngx.say(data)
wb.close()
