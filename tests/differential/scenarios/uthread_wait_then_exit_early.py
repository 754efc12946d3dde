from cosocket import ngx
def f(d, name):
    ngx.sleep(d)
    ngx.say(name, " done")
a = ngx.thread.spawn(f, 0.01, "a")
b = ngx.thread.spawn(f, 0.05, "b")
ngx.thread.wait(a)
ngx.say("exiting")
ngx.exit(200)
