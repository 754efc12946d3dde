from cosocket import ngx
ngx.say(*ngx.re.sub("hello world", "o", "0")[:2])
ngx.say(*ngx.re.gsub("hello world", "o", "[$0]")[:2])
ngx.say(*ngx.re.gsub("a1b2", "[0-9]", lambda m: "<" + m[0] + ">")[:2])
it = ngx.re.gmatch("a1b22c333", "[0-9]+")[0]
while True:
    m = it()
    if isinstance(m, tuple):
        m = m[0]
    if not m:
        break
    ngx.say("m: ", m[0])
