from cosocket import ngx
sema = ngx.semaphore.new()[0]
out = []
def second(premature):
    out.append("second")
    sema.post()
def first(premature):
    ngx.timer.at(0, second)
    out.append("first")
    ngx.exit(0)
    out.append("never")
ngx.timer.at(0, first)
sema.wait(1)
ngx.say(" ".join(out))
