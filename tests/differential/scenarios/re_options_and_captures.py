from cosocket import ngx
m = ngx.re.match("Hello WORLD", "(?<first>h\\w+) (w\\w+)", "i")[0]
ngx.say(m[0], "|", m[1], "|", m["first"], "|", m[2])
start, end, err = ngx.re.find("abc123def", "\\d+")
ngx.say(start, " ", end)
ngx.say(ngx.re.match("abc", "^b")[0])
ngx.say(*ngx.re.gsub("a.b.c", "\\.", "-")[:2])
