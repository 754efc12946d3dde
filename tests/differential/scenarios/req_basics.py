from cosocket import ngx
ngx.say(ngx.req.get_method(), " ", ngx.req.http_version(), " ", ngx.var.uri, " ", ngx.var.request_uri)
ngx.say("args: ", ngx.var.args)
