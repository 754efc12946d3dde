from cosocket import ngx
ngx.say("hello")
ngx.say("world")
