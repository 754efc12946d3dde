from cosocket import ngx
t = ngx.thread.spawn(lambda: ngx.sleep(0.01))
ngx.say(t.status())
ngx.thread.wait(t)
ngx.say(t.status())
