local ok, err = pcall(ngx.thread.spawn, 42)
ngx.say(ok, err:match("%(.*%)"))
ngx.say(pcall(ngx.thread.wait))
