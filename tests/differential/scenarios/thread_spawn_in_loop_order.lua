local out = {}
for i = 1, 3 do
    ngx.thread.spawn(function()
        out[#out + 1] = "start " .. i
        ngx.sleep(0.001 * (4 - i))
        out[#out + 1] = "end " .. i
    end)
    out[#out + 1] = "spawned " .. i
end
ngx.sleep(0.05)
ngx.say(table.concat(out, ", "))
