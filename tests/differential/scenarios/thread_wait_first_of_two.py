from cosocket import ngx
def sleeper(d, name):
    ngx.sleep(d)
    return name
a = ngx.thread.spawn(sleeper, 0.05, "slow")
b = ngx.thread.spawn(sleeper, 0.01, "fast")
ngx.say(*ngx.thread.wait(a, b))
ngx.say(*ngx.thread.wait(a, b))
