from cosocket import ngx
sema = ngx.semaphore.new()[0]
def fa():
    sema.wait(1)
    ngx.say("a: never")
def fb():
    ok = sema.wait(1)[0]
    ngx.say("b: ", ok)
a = ngx.thread.spawn(fa)
b = ngx.thread.spawn(fb)
ngx.say("count: ", sema.count())
ngx.thread.kill(a)
sema.post()
ngx.thread.wait(b)
ngx.say("count: ", sema.count())
