from cosocket import ngx
t = ngx.thread.spawn(lambda a, b: (a + b, "two", None, 4), 1, 2)
ngx.say(*ngx.thread.wait(t))
