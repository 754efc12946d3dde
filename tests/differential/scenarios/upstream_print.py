from cosocket import ngx
ngx.print(ngx.var.arg_b, "\n")
