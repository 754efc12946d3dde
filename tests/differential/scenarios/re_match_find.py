from cosocket import ngx
m = ngx.re.match("hello 1234 world", "([0-9]+)")[0]
ngx.say(m[0], " ", m[1])
m2 = ngx.re.match("abc", "(?<x>b)(d)?", "jo")[0]
ngx.say(m2["x"], " ", m2[2])
start, end, err = ngx.re.find("hello 1234", "[0-9]+", "jo")
ngx.say(start, " ", end)
ngx.say(ngx.re.match("abc", "z")[0])
