from cosocket import ngx
def f(d, name):
    ngx.sleep(d)
    ngx.say(name, " done")
    return name
a = ngx.thread.spawn(f, 0.02, "a")
b = ngx.thread.spawn(f, 0.01, "b")
ngx.say("wait a: ", ngx.thread.wait(a)[1])
ngx.say("wait b: ", ngx.thread.wait(b)[1])
