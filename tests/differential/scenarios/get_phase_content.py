from cosocket import ngx
ngx.say(ngx.get_phase())
