-- Hands jobs a stopping worker holds back to the front of wait (or of their priority), as BullMQ's
-- moveJobFromActiveToWait does; jobs whose lock is no longer this worker's are left alone.
--- @keys wait active prioritized events stalled meta marker
--- @argv queueBase locks...
-- locks: id and token per job.
--- @include rcall
--- @include eventsCap
--- @include isHeld
--- @include markReady

local cap = eventsCap(KEYS[6])
local moved = 0
for i = 2, #ARGV, 2 do
  local id, jobKey = ARGV[i], ARGV[1] .. ARGV[i]
  if rcall("GET", jobKey .. ":lock") == ARGV[i + 1] and rcall("LREM", KEYS[2], 1, id) > 0 then
    rcall("DEL", jobKey .. ":lock")
    rcall("SREM", KEYS[5], id)
    local priority = tonumber(rcall("HGET", jobKey, "priority")) or 0
    if priority > 0 then
      rcall("ZADD", KEYS[3], priority * 0x100000000, id)
    else
      rcall("RPUSH", KEYS[1], id)
    end
    rcall("XADD", KEYS[4], "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", id, "prev", "active")
    moved = moved + 1
  end
end
if moved > 0 then markReady(KEYS[7], isHeld(KEYS[6], KEYS[2])) end
return moved
