ngx.say("hello")
ngx.say("world")
