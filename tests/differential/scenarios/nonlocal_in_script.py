from cosocket import ngx
n = 0
def bump():
    nonlocal n
    n += 1
bump()
bump()
ngx.say("n: ", n)
