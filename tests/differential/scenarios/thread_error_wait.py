from cosocket import ngx
def f():
    raise ValueError("boom")
t = ngx.thread.spawn(f)
ok, err = ngx.thread.wait(t)
ngx.say("ok: ", ok)
