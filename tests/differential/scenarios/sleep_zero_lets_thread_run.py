from cosocket import ngx
def f():
    ngx.say("t: 1")
    ngx.sleep(0)
    ngx.say("t: 2")
ngx.thread.spawn(f)
ngx.say("main: 1")
ngx.sleep(0.01)
ngx.say("main: 2")
