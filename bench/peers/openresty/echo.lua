-- OpenResty echo peer: the same loop as bench/peers/cosocket/echo.py, in Lua.
-- Debian's lua-nginx-websocket installs lua-resty-websocket (v0.08) under this name.
local server = require "nginx.websocket.server"

local wb, err = server:new{ timeout = 60000, max_payload_len = 4194304 }
if not wb then
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    return ngx.exit(444)
end

while true do
    local data, typ, err = wb:recv_frame()
    if not data then
        if not string.find(err, "timeout", 1, true) then
            break
        end
    elseif typ == "close" then
        wb:send_close(1000, "")
        break
    elseif typ == "ping" then
        wb:send_pong(data)
    elseif typ == "text" then
        wb:send_text(data)
    elseif typ == "binary" then
        wb:send_binary(data)
    end
end
