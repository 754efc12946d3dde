ngx.print(ngx.var.arg_b, "\n")
