from cosocket import ngx
def f():
    ngx.sleep(1)
    ngx.say("never")
t = ngx.thread.spawn(f)
ngx.say("kill: ", ngx.thread.kill(t)[0])
ngx.say("kill again: ", ngx.thread.kill(t)[1])
ngx.say("wait: ", ngx.thread.wait(t)[1])
