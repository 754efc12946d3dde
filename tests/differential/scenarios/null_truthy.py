from cosocket import ngx
if ngx.null:
    ngx.say("truthy")
else:
    ngx.say("falsy")
ngx.say(ngx.null)
ngx.say(ngx.null == ngx.null)
