from cosocket import ngx
counter = 5
def bump():
    global counter
    counter += 1
bump()
ngx.say("counter: ", counter)
