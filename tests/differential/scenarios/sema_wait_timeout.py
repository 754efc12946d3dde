from cosocket import ngx
sema = ngx.semaphore.new()[0]
ok, err = sema.wait(0.01)
ngx.say(ok, " ", err)
ok, err = sema.wait(0)
ngx.say(ok, " ", err)
ngx.say("count: ", sema.count())
