from cosocket import ngx
sema = ngx.semaphore.new()[0]
out = []
def cb(premature):
    def th():
        out.append("thread")
        return 7
    t = ngx.thread.spawn(th)
    out.append("timer")
    ok, v = ngx.thread.wait(t)
    out.append(str(v))
    sema.post()
ngx.timer.at(0, cb)
sema.wait(1)
ngx.say(" ".join(out))
