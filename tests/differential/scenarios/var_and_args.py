from cosocket import ngx
ngx.say(ngx.var.arg_a, " ", ngx.var.arg_missing, " ", ngx.var.request_method)
args = ngx.req.get_uri_args()
ngx.say("table" if hasattr(args, "keys") else type(args).__name__)
