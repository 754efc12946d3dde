from cosocket import ngx
ngx.say(ngx.encode_base64("hello?"), " ", ngx.decode_base64("aGVsbG8/"))
ngx.say(ngx.md5("abc"), " ", len(ngx.md5_bin("abc")), " ", len(ngx.sha1_bin("abc")))
ngx.say(ngx.escape_uri("a b/c?&=é"), " ", ngx.unescape_uri("a%20b+c"))
ngx.say(ngx.encode_args({"a": "1 2"}), " ", ngx.decode_args("x=1&y=a%20b")[0]["y"])
ngx.say(ngx.http_time(0), " | ", ngx.cookie_time(0))
ngx.say(ngx.crc32_short("hello"), " ", ngx.quote_sql_str("it's"))
