from cosocket import ngx
sema = ngx.semaphore.new(2)[0]
for i in range(3):
    ok, err = sema.wait(0)
    ngx.say(ok, " ", err)
ngx.say("count: ", sema.count())
