if ngx.null then ngx.say("truthy") else ngx.say("falsy") end
ngx.say(ngx.null)
ngx.say(ngx.null == ngx.null)
