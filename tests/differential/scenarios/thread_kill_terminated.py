from cosocket import ngx
t = ngx.thread.spawn(lambda: 1)
ngx.say(*ngx.thread.kill(t))
