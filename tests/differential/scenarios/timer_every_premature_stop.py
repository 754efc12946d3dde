from cosocket import ngx
sema = ngx.semaphore.new()[0]
ok, err = ngx.timer.every(0.005, lambda premature, tag: sema.post(), "t")
ngx.say("every: ", ok, " ", err)
ngx.say("wait: ", *sema.wait(1))
ngx.say("wait: ", *sema.wait(1))
