local sock = ngx.socket.tcp()
do local a, b, c = sock:send("x") ngx.say("send: ", a, " ", b) end
do local a, b, c = sock:receive() ngx.say("receive: ", a, " ", b) end
do local a, b, c = sock:close() ngx.say("close: ", a, " ", b) end
do local a, b, c = sock:setkeepalive() ngx.say("keepalive: ", a, " ", b) end
do local a, b, c = sock:getreusedtimes() ngx.say("reused: ", a, " ", b) end
