from cosocket import ngx
t1 = ngx.thread.spawn(lambda: ngx.sleep(0.01))
def f():
    try:
        ngx.thread.wait(t1)
        ngx.say("wait: true nil")
    except RuntimeError as e:
        ngx.say("wait: false ", str(e))
t2 = ngx.thread.spawn(f)
ngx.thread.wait(t2)
ngx.thread.wait(t1)
