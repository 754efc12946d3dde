from cosocket import ngx
def f():
    ngx.sleep(0.01)
    ngx.say("thread exits")
    ngx.exit(ngx.OK)
ngx.thread.spawn(f)
ngx.say("entry sleeps")
ngx.sleep(1)
ngx.say("entry never")
