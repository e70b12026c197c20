-- store.lua - reads and writes a throwaway Prosody's files with Prosody's
-- own code (util.datamanager, the SCRAM hasher of mod_auth_internal_hashed).
-- Run through prosody_lua (tests/lib/prosody.bash): lua - DATA CMD ARGS...
--
--   DATA accounts N        create accounts r0001..rN and "sink" on host
--                          localhost, password "USER-pw", stored exactly as
--                          mod_auth_internal_hashed (SCRAM-SHA-1, 10000
--                          iterations, random salt) would store them
--   DATA bodies USER       print the bodies of USER's offline messages, one
--                          per line ("\" and newline escaped as \\ and \n)
--   DATA lastbody USER     write the body of USER's last offline message,
--                          unescaped, to stdout
--   DATA fanout N BODY     check that r0001..rN each hold BODY exactly once;
--                          print "once=X missing=Y duplicated=Z"

local dm = require "util.datamanager"
local st = require "util.stanza"
local host = "localhost"

local data, cmd = arg[1], arg[2]
dm.set_data_path(data)

local function messages(user)
    local items, err = dm.list_load(user, host, "offline")
    if err then
        io.stderr:write("store.lua: ", tostring(err), "\n")
        os.exit(1)
    end
    local out = {}
    for _, item in ipairs(items or {}) do
        out[#out + 1] = st.deserialize(item)
    end
    return out
end

if cmd == "accounts" then
    require "util.sasl" -- registers the SCRAM hashers
    local hasher = require "util.sasl.scram".hashers["SHA-1"]
    local uuid = require "util.uuid"
    local hex = require "util.hex"
    local iterations = 10000 -- mod_auth_internal_hashed's default
    local users = { "sink" }
    for i = 1, tonumber(arg[3]) do
        users[#users + 1] = string.format("r%04d", i)
    end
    for _, user in ipairs(users) do
        local salt = uuid.generate()
        local ok, stored_key, server_key = hasher(user .. "-pw", salt, iterations)
        assert(ok, stored_key)
        assert(dm.store(user, host, "accounts", {
            stored_key = hex.encode(stored_key),
            server_key = hex.encode(server_key),
            salt = salt,
            iteration_count = iterations,
        }))
    end
elseif cmd == "bodies" then
    for _, m in ipairs(messages(arg[3])) do
        local body = m:get_child_text("body") or ""
        body = body:gsub("\\", "\\\\"):gsub("\n", "\\n")
        io.write(body, "\n")
    end
elseif cmd == "lastbody" then
    local ms = messages(arg[3])
    if #ms == 0 then os.exit(1) end
    io.write(ms[#ms]:get_child_text("body") or "")
elseif cmd == "fanout" then
    local once, missing, dup = 0, 0, 0
    for i = 1, tonumber(arg[3]) do
        local n = 0
        for _, m in ipairs(messages(string.format("r%04d", i))) do
            if m:get_child_text("body") == arg[4] then n = n + 1 end
        end
        if n == 1 then once = once + 1
        elseif n == 0 then missing = missing + 1
        else dup = dup + 1 end
    end
    io.write(string.format("once=%d missing=%d duplicated=%d\n", once, missing, dup))
else
    io.stderr:write("store.lua: unknown command ", tostring(cmd), "\n")
    os.exit(64)
end
