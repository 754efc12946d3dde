from cosocket import ngx
ngx.say("id: ", ngx.worker.id(), " count: ", ngx.worker.count(), " exiting: ", ngx.worker.exiting())
