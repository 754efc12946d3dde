from cosocket import ngx
def f():
    ngx.sleep(0.01)
    ngx.say("thread: exit")
    ngx.exit(200)
ngx.thread.spawn(f)
ngx.sleep(0.2)
ngx.say("main: never")
