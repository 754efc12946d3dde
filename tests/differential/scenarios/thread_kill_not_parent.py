from cosocket import ngx
t1 = ngx.thread.spawn(lambda: ngx.sleep(0.05))
t2 = ngx.thread.spawn(lambda: ngx.say("kill: ", *ngx.thread.kill(t1)))
ngx.thread.wait(t2)
ngx.thread.kill(t1)
