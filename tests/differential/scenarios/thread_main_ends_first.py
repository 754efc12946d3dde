from cosocket import ngx
def f():
    ngx.sleep(0.02)
    ngx.say("thread: still runs")
ngx.thread.spawn(f)
ngx.say("main: done")
