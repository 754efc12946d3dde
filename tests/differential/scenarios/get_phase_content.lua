ngx.say(ngx.get_phase())
