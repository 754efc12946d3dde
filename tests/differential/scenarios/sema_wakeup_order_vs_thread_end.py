from cosocket import ngx
sema = ngx.semaphore.new()[0]
def fa():
    sema.wait(1)
    ngx.say("a: woke")
def fb():
    sema.wait(1)
    ngx.say("b: woke")
a = ngx.thread.spawn(fa)
b = ngx.thread.spawn(fb)
sema.post(1)
ngx.say("main: one")
sema.post(1)
ngx.say("main: two")
ngx.thread.wait(a)
ngx.say("main: a done")
ngx.thread.wait(b)
ngx.say("main: b done")
