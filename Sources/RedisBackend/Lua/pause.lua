-- Pauses ("paused") or resumes ("resumed") a queue. Resuming moves up to 7000 jobs of a legacy paused list
-- (BullMQ 5) back to wait per call and replies how many are left there.
--- @keys wait paused meta prioritized events delayed marker
--- @argv change
-- change: "paused" or "resumed".
--- @include rcall
--- @include markNextDelayed

local left = 0
if ARGV[1] == "paused" then
  rcall("HSET", KEYS[3], "paused", 1)
  rcall("DEL", KEYS[7])
else
  rcall("HDEL", KEYS[3], "paused")
  if rcall("EXISTS", KEYS[2]) == 1 then
    if rcall("EXISTS", KEYS[1]) == 0 then
      rcall("RENAME", KEYS[2], KEYS[1])
    else
      local ids = rcall("LRANGE", KEYS[2], 0, 6999)
      rcall("RPUSH", KEYS[1], unpack(ids))
      rcall("LTRIM", KEYS[2], #ids, -1)
      left = rcall("LLEN", KEYS[2])
    end
  end
  if rcall("LLEN", KEYS[1]) + rcall("ZCARD", KEYS[4]) > 0 then
    rcall("ZADD", KEYS[7], 0, "0")
  else
    markNextDelayed(KEYS[7], KEYS[6])
  end
end
rcall("XADD", KEYS[5], "*", "event", ARGV[1])
return left
