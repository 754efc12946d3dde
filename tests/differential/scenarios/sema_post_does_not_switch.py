from cosocket import ngx
sema = ngx.semaphore.new()[0]
def f():
    ok, err = sema.wait(1)
    ngx.say("wait success: ", ok)
ngx.thread.spawn(f)
for i in range(1, 4):
    sema.post(1)
    ngx.say("post: ", i)
ngx.sleep(0.01)
ngx.say("count: ", sema.count())
