from cosocket import ngx
def f():
    ngx.say("f: 1")
    ngx.sleep(0.01)
    ngx.say("f: 2")
t = ngx.thread.spawn(f)
ngx.say("spawned")
ok = ngx.thread.wait(t)[0]
ngx.say("waited: ", ok)
