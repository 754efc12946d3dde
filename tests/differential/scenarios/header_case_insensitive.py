from cosocket import ngx
ngx.header["X-Foo"] = "bar"
ngx.say(ngx.header["x-foo"], " ", ngx.header["x_foo"])
ngx.header["X-Foo"] = None
ngx.say(ngx.header["X-Foo"])
