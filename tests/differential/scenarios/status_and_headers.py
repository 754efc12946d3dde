from cosocket import ngx
ngx.say("status: ", ngx.status)
ngx.say("sent: ", ngx.headers_sent)
ngx.flush(True)
ngx.say("sent: ", ngx.headers_sent)
