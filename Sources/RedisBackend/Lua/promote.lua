-- Promotes delayed jobs, one reply per id: 1 moved, -1 no such job, -3 not delayed, -4 not a hash.
--- @keys delayed wait meta prioritized active pc events marker
--- @argv queueBase logLine ids...
-- logLine: added to each moved job's log unless empty.
--- @include rcall
--- @include isHeld
--- @include markReady
--- @include addPrioritized
--- @include jobType
--- @include addJobLog

local queueBase, logLine = ARGV[1], ARGV[2]
local held = isHeld(KEYS[3], KEYS[5])
local replies, moved = {}, 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local jobKey = queueBase .. id
  local kind = jobType(jobKey)
  if kind ~= "hash" then
    replies[#replies + 1] = kind == "none" and -1 or -4
  elseif rcall("ZREM", KEYS[1], id) == 0 then
    replies[#replies + 1] = -3
  else
    local priority = tonumber(rcall("HGET", jobKey, "priority")) or 0
    if priority > 0 then
      addPrioritized(KEYS[4], KEYS[6], id, priority)
    else
      rcall("LPUSH", KEYS[2], id)
    end
    rcall("XADD", KEYS[7], "*", "event", "waiting", "jobId", id, "prev", "delayed")
    rcall("HSET", jobKey, "delay", 0)
    if logLine ~= "" then addJobLog(jobKey, logLine, rcall("HGET", jobKey, "opts")) end
    moved = moved + 1
    replies[#replies + 1] = 1
  end
end
if moved > 0 then markReady(KEYS[8], held) end
return replies
