from cosocket import ngx
ngx.say("a", 1, " ", 2.5, " ", True, " ", False, " ", None)
ngx.say(["x", ["y", "z"]], 10)
ngx.print("no newline")
ngx.say()
ngx.say(3.0, " ", 1e20, " ", 1/3)
