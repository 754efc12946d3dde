ngx.say(ngx.re.sub("hello world", "o", "0"))
ngx.say(ngx.re.gsub("hello world", "o", "[$0]"))
ngx.say(ngx.re.gsub("a1b2", "[0-9]", function(m) return "<" .. m[0] .. ">" end))
local it = ngx.re.gmatch("a1b22c333", "[0-9]+")
while true do
    local m = it()
    if not m then break end
    ngx.say("m: ", m[0])
end
