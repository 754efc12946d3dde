from cosocket import ngx
try:
    ngx.timer.every(0, lambda p: None)
    ngx.say("true")
except ValueError as e:
    ngx.say("false", str(e))
