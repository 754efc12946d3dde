from cosocket import ngx
sema = ngx.semaphore.new()[0]
order = []
def cb(premature, name):
    order.append(name)
    sema.post()
ngx.timer.at(0.03, cb, "c")
ngx.timer.at(0.01, cb, "a")
ngx.timer.at(0.02, cb, "b")
for i in range(3):
    sema.wait(1)
ngx.say(" ".join(order))
