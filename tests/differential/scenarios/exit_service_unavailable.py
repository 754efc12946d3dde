from cosocket import ngx
ngx.exit(ngx.HTTP_SERVICE_UNAVAILABLE)
