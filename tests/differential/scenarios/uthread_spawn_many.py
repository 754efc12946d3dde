from cosocket import ngx
def f(x):
    if x % 2 == 0:
        ngx.sleep(0.001)
    return x
total = 0
for i in range(1, 21):
    t = ngx.thread.spawn(f, i)
    ok, v = ngx.thread.wait(t)
    total += v
ngx.say("total: ", total)
