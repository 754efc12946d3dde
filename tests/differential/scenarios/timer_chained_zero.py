from cosocket import ngx
sema = ngx.semaphore.new()[0]
out = []
def step(premature, n):
    out.append("step %d" % n)
    if n < 3:
        ngx.timer.at(0, step, n + 1)
    else:
        sema.post()
ngx.timer.at(0, step, 1)
out.append("armed")
sema.wait(1)
ngx.say(", ".join(out))
