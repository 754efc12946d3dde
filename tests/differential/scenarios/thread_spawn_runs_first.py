from cosocket import ngx
ngx.say("before")
t = ngx.thread.spawn(lambda: ngx.say("in thread"))
ngx.say("after")
