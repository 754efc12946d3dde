from cosocket import ngx
for arg in (-1, -0.5):
    try:
        ngx.sleep(arg)
        ngx.say("true")
    except ValueError as e:
        ngx.say("false", str(e))
try:
    ngx.sleep("x")
except TypeError as e:
    ngx.say("false ", str(e)[-31:])
