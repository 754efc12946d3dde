ngx.say(ngx.var.arg_a, " ", ngx.var.arg_missing, " ", ngx.var.request_method)
local args = ngx.req.get_uri_args()
ngx.say(type(args))
