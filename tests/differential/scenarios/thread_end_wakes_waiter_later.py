from cosocket import ngx
def child():
    ngx.sleep(0.01)
    ngx.say("child: ending")
def other():
    ngx.sleep(0.01)
    ngx.say("other: woke")
t = ngx.thread.spawn(child)
ngx.thread.spawn(other)
ngx.thread.wait(t)
ngx.say("main: waited")
