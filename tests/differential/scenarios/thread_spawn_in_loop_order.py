from cosocket import ngx
out = []
def f(i):
    out.append("start %d" % i)
    ngx.sleep(0.001 * (4 - i))
    out.append("end %d" % i)
for i in range(1, 4):
    ngx.thread.spawn(f, i)
    out.append("spawned %d" % i)
ngx.sleep(0.05)
ngx.say(", ".join(out))
