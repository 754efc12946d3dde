from cosocket import ngx
sema = ngx.semaphore.new()[0]
base = ngx.timer.pending_count()  # timers of other requests of this worker
ngx.timer.at(0.01, lambda p: sema.post())
ngx.timer.at(0.5, lambda p: None)
ngx.say("pending: ", ngx.timer.pending_count() - base, " running: ", ngx.timer.running_count())
sema.wait(1)
ngx.sleep(0.01)
ngx.say("pending: ", ngx.timer.pending_count() - base)
