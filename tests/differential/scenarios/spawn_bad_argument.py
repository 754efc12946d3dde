from cosocket import ngx
for call, paren in ((lambda: ngx.thread.spawn(42), True), (lambda: ngx.thread.wait(), False)):
    try:
        call()
        ngx.say("true")
    except TypeError as e:
        ngx.say("false", str(e)[str(e).index("("):] if paren else str(e))
