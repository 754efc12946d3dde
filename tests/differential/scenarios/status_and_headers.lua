ngx.say("status: ", ngx.status)
ngx.say("sent: ", ngx.headers_sent)
ngx.flush(true)
ngx.say("sent: ", ngx.headers_sent)
