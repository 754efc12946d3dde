from cosocket import ngx
ngx.say("capture: ", ngx.var[1])
