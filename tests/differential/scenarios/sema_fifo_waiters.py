from cosocket import ngx
sema = ngx.semaphore.new(0)[0]
def f(i):
    ngx.say("waiting: ", i)
    ok = sema.wait(1)[0]
    ngx.say("woke: ", i, " ", ok)
for i in range(1, 4):
    ngx.thread.spawn(f, i)
ngx.say("count: ", sema.count())
sema.post(3)
ngx.say("posted")
ngx.sleep(0.01)
