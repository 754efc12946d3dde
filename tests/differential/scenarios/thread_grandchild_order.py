from cosocket import ngx
def g():
    ngx.say("g: start")
    ngx.sleep(0.01)
    ngx.say("g: end")
def f():
    ngx.say("f: start")
    ngx.thread.spawn(g)
    ngx.say("f: after g")
ngx.thread.spawn(f)
ngx.say("main: after f")
