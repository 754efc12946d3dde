from cosocket import ngx
ngx.exit(ngx.HTTP_NOT_IMPLEMENTED)
