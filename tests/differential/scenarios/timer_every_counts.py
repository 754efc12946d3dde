from cosocket import ngx
sema = ngx.semaphore.new()[0]
n = 0
ngx.say("pending before: ", ngx.timer.pending_count())
def cb(premature):
    nonlocal n
    n += 1
    if n <= 3:
        sema.post()
ngx.timer.every(0.01, cb)
ngx.say("pending: ", ngx.timer.pending_count())
for i in range(3):
    sema.wait(1)
ngx.say("ticks: ", n >= 3)
