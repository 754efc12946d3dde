from cosocket import ngx
sema = ngx.semaphore.new()[0]
got = []
def cb(premature, a, b):
    got.extend([premature, a, b, ngx.get_phase()])
    sema.post()
ok, err = ngx.timer.at(0, cb, "x", 2)
ngx.say("at: ", ok, " ", err)
sema.wait(1)
ngx.say("premature: ", got[0], " args: ", got[1], " ", got[2], " phase: ", got[3])
