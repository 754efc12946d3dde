from cosocket import ngx
ngx.ctx["n"] = 1
def f():
    ngx.ctx["n"] = ngx.ctx["n"] + 1
t = ngx.thread.spawn(f)
ngx.thread.wait(t)
ngx.say("n: ", ngx.ctx["n"])
