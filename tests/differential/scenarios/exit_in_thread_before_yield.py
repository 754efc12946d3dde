from cosocket import ngx
def f():
    ngx.say("thread")
    ngx.exit(200)
ngx.thread.spawn(f)
ngx.say("main after spawn")
ngx.sleep(0.01)
ngx.say("main never")
