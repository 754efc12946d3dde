from cosocket import ngx
def f(d, name):
    ngx.sleep(d)
    ngx.say(name)
ngx.thread.spawn(f, 0.03, "c")
ngx.thread.spawn(f, 0.01, "a")
ngx.thread.spawn(f, 0.02, "b")
ngx.say("main")
