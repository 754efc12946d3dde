-- Echo location on the original lua-resty-websocket (Debian's lua-nginx-websocket
-- installs it as "nginx.websocket.server", v0.08), for the interop tests.
-- Echoes text and binary frames, answers pings, echoes a close frame's code and
-- reason; the text "close-me" makes it close with 4002 "peer bye ✓", "fragment-me"
-- makes it send "é!" in two fragments split inside the "é", "ping-me" makes it ping
-- and say "pong received" when the pong is back.
local server = require "nginx.websocket.server"

local wb, err = server:new{ timeout = 5000, max_payload_len = 4194304 }
if not wb then
    ngx.log(ngx.ERR, "failed to new websocket: ", err)
    return ngx.exit(444)
end

while true do
    local data, typ, err = wb:recv_frame()
    if not data then
        ngx.log(ngx.ERR, "failed to receive a frame: ", err)
        return ngx.exit(444)
    end
    if typ == "close" then
        wb:send_close(err, data)
        return
    elseif typ == "ping" then
        wb:send_pong(data)
    elseif typ == "text" then
        if data == "close-me" then
            wb:send_close(4002, "peer bye ✓")
            return
        end
        if data == "fragment-me" then
            -- "é!" as a text message whose first fragment ends inside the "é"
            wb:send_frame(false, 0x1, "\xc3")
            wb:send_frame(true, 0x0, "\xa9!")
        elseif data == "ping-me" then
            wb:send_ping("are you there?")
            local pong, ptyp = wb:recv_frame()
            if ptyp == "pong" and pong == "are you there?" then
                wb:send_text("pong received")
            end
        else
            wb:send_text(data)
        end
    elseif typ == "binary" then
        wb:send_binary(data)
    end
end
