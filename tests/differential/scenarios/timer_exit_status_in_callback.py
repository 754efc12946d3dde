from cosocket import ngx
sema = ngx.semaphore.new()[0]
out = []
def cb(premature):
    def th():
        ngx.sleep(0.01)
        out.append("thread never")
    ngx.thread.spawn(th)
    ngx.timer.at(0.02, lambda p: sema.post())
    out.append("before exit")
    ngx.exit(403)
ngx.timer.at(0, cb)
sema.wait(1)
ngx.say(", ".join(out))
