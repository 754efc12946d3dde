from cosocket import ngx
sema = ngx.semaphore.new()[0]
order = []
def cb(premature, i):
    order.append(str(i))
    sema.post()
for i in range(1, 5):
    ngx.timer.at(0, cb, i)
for i in range(4):
    sema.wait(1)
ngx.say(" ".join(order))
