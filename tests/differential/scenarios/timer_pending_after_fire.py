from cosocket import ngx
sema = ngx.semaphore.new()[0]
ngx.timer.at(0.01, lambda p: sema.post())
ngx.timer.at(10, lambda p: None)
ngx.say("pending: ", ngx.timer.pending_count(), " running: ", ngx.timer.running_count())
sema.wait(1)
ngx.sleep(0.01)
ngx.say("pending: ", ngx.timer.pending_count(), " running: ", ngx.timer.running_count())
