ngx.say("capture: ", ngx.var[1])
