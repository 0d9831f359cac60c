-- Promotes delayed jobs, one reply per id: 1 moved, -1 no such job, -3 not delayed, -4 not a hash.
--- @keys delayed wait meta prioritized active pc events marker
--- @argv queueBase logLine ids...
-- logLine: added to each moved job's log unless empty.
--- @include rcall
--- @include isHeld
--- @include markReady
--- @include addPrioritized
--- @include notAJob
--- @include addJobLog

local queueBase, logLine = ARGV[1], ARGV[2]
local held = isHeld(KEYS[3], KEYS[5])
-- The whole batch's membership in one call, and one ZREM and LPUSH for it (one LPUSH of many ids leaves
-- them in the order one LPUSH each would): per job there are then only its own fields and its event.
local scores = rcall("ZMSCORE", KEYS[1], unpack(ARGV, 3))
local replies, seen, moved, front = {}, {}, {}, {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local jobKey = queueBase .. id
  local code
  if not scores[i - 2] or seen[id] then
    code = notAJob(jobKey) or -3
  else
    -- A key of another type answers an error: no priority, as for a key that is gone.
    local priority = redis.pcall("HGET", jobKey, "priority")
    if type(priority) == "table" then priority = false end
    code = not priority and notAJob(jobKey) or nil
    if not code then
      code = 1
      seen[id] = true
      moved[#moved + 1] = id
      priority = tonumber(priority) or 0
      if priority > 0 then
        addPrioritized(KEYS[4], KEYS[6], id, priority)
      else
        front[#front + 1] = id
      end
      rcall("XADD", KEYS[7], "*", "event", "waiting", "jobId", id, "prev", "delayed")
      rcall("HSET", jobKey, "delay", 0)
      if logLine ~= "" then addJobLog(jobKey, logLine, rcall("HGET", jobKey, "opts")) end
    end
  end
  replies[#replies + 1] = code
end
if #moved > 0 then
  rcall("ZREM", KEYS[1], unpack(moved))
  if #front > 0 then rcall("LPUSH", KEYS[2], unpack(front)) end
  markReady(KEYS[8], held)
end
return replies
