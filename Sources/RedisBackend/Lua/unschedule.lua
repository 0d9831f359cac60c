-- Removes job schedulers and their pending delayed jobs, as BullMQ's removeJobScheduler does; per id 0 removed,
-- 1 no such scheduler, 2 removed but its next job had already left delayed for waiting or running (it stays).
--- @keys schedulers delayed events wait prioritized active
--- @argv queueBase ids...
--- @include rcall
--- @include deleteJobKeys

local replies = {}
for i = 2, #ARGV do
  local schedulerId = ARGV[i]
  local millis = rcall("ZSCORE", KEYS[1], schedulerId)
  local left = false
  if millis then
    local pendingId = "repeat:" .. schedulerId .. ":" .. millis
    if rcall("ZREM", KEYS[2], pendingId) == 1 then
      deleteJobKeys(ARGV[1] .. pendingId)
      rcall("XADD", KEYS[3], "*", "event", "removed", "jobId", pendingId, "prev", "delayed")
    else
      left = rcall("ZSCORE", KEYS[5], pendingId) ~= false or rcall("LPOS", KEYS[4], pendingId) ~= false
        or rcall("LPOS", KEYS[6], pendingId) ~= false
    end
  end
  if rcall("ZREM", KEYS[1], schedulerId) == 1 then
    rcall("DEL", KEYS[1] .. ":" .. schedulerId)
    replies[#replies + 1] = left and 2 or 0
  else
    replies[#replies + 1] = 1
  end
end
return replies
