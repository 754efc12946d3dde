from cosocket import ngx
t = ngx.thread.spawn(lambda: "done")
ngx.say(*ngx.thread.wait(t))
ngx.say(*ngx.thread.wait(t))
