from cosocket import ngx
sema = ngx.semaphore.new()[0]
seen = []
def cb(premature):
    seen.append(ngx.timer.running_count())
    sema.post()
ngx.timer.at(0, cb)
sema.wait(1)
ngx.say("running inside: ", seen[0])
