from cosocket import ngx
sema = ngx.semaphore.new()[0]
n = 0
base = ngx.timer.pending_count()  # timers of other requests of this worker
def cb(premature):
    nonlocal n
    n += 1
    if n <= 3:
        sema.post()
ngx.timer.every(0.01, cb)
ngx.say("pending added: ", ngx.timer.pending_count() - base)
for i in range(3):
    sema.wait(1)
ngx.say("ticks: ", n >= 3)
