from cosocket import ngx
sema = ngx.semaphore.new()[0]
def f():
    ngx.say("sub: wait")
    sema.wait(1)
    ngx.say("sub: woke")
    return "r"
t = ngx.thread.spawn(f)
ngx.say("main: post")
sema.post()
ngx.say("main: posted")
ngx.say("main: waited ", ngx.thread.wait(t)[1])
