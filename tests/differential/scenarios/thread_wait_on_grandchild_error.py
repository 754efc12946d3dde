from cosocket import ngx
def child():
    g = ngx.thread.spawn(lambda: "g")
    return ngx.thread.wait(g)[1] + "+t"
t = ngx.thread.spawn(child)
ngx.say(ngx.thread.wait(t)[1])
try:
    ngx.thread.wait(ngx.thread.spawn(lambda: None), 1)
    ok = True
except TypeError:
    ok = False
ngx.say("bad arg: ", ok)
