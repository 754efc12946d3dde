from cosocket import ngx
sema = ngx.semaphore.new()[0]
order = []
def f(i):
    ok, err = sema.wait(0.5)
    order.append("%d:%s" % (i, "true" if ok else ok))
threads = [ngx.thread.spawn(f, i) for i in range(1, 5)]
sema.post(2)
ngx.sleep(0.01)
ngx.say(" ".join(order), " count: ", sema.count())
sema.post(2)
for t in threads:
    ngx.thread.wait(t)
ngx.say(" ".join(order), " count: ", sema.count())
