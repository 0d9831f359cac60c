-- Retries failed or completed jobs, one reply per id: 1 moved, -1 no such job, -3 not in that state, -4 the
-- job's key is not a hash, -9 its flow parent lies in another slot of the Redis Cluster (left as it was).
--- @keys events state wait meta active marker prioritized pc
--- @argv queueBase state reset logLine ids...
-- state: "failed" or "completed"; reset: "1" clears the attempt counters; logLine: added to each moved job's log
-- unless empty.
--- @include rcall
--- @include eventsCap
--- @include isHeld
--- @include markReady
--- @include addPrioritized
--- @include jobType
--- @include isLifo
--- @include clusterSlot
--- @include inAnotherSlot
--- @include addJobLog

local queueBase, state, reset, logLine = ARGV[1], ARGV[2], ARGV[3] == "1", ARGV[4]
local held = isHeld(KEYS[4], KEYS[5])
local cap = eventsCap(KEYS[4])
local resultField = state == "failed" and "failedReason" or "returnvalue"
local replies, moved = {}, 0
for i = 5, #ARGV do
  local id = ARGV[i]
  local jobKey = queueBase .. id
  local kind = jobType(jobKey)
  if kind == "none" then
    replies[#replies + 1] = -1
  elseif kind ~= "hash" then
    replies[#replies + 1] = -4
  elseif clusterSlot(queueBase) and inAnotherSlot(queueBase, rcall("HGET", jobKey, "parentKey")) then
    replies[#replies + 1] = -9
  elseif rcall("ZREM", KEYS[2], id) == 0 then
    replies[#replies + 1] = -3
  else
    if reset then
      rcall("HDEL", jobKey, "finishedOn", "processedOn", resultField, "atm", "ats")
    else
      rcall("HDEL", jobKey, "finishedOn", "processedOn", resultField)
    end
    local fields = rcall("HMGET", jobKey, "priority", "opts", "parentKey")
    local priority = tonumber(fields[1]) or 0
    if priority > 0 then
      addPrioritized(KEYS[7], KEYS[8], id, priority)
    else
      rcall(isLifo(fields[2]) and "RPUSH" or "LPUSH", KEYS[3], id)
    end
    -- A retried child counts again as a pending dependency of its parent.
    local parentKey = fields[3]
    if parentKey and rcall("EXISTS", parentKey) == 1 then
      local done
      if state == "failed" then
        done = rcall("ZREM", parentKey .. ":unsuccessful", jobKey)
          + rcall("HDEL", parentKey .. ":failed", jobKey)
      else
        done = rcall("HDEL", parentKey .. ":processed", jobKey)
      end
      if done > 0 then rcall("SADD", parentKey .. ":dependencies", jobKey) end
    end
    rcall("XADD", KEYS[1], "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", id, "prev", state)
    if logLine ~= "" then addJobLog(jobKey, logLine, fields[2]) end
    moved = moved + 1
    replies[#replies + 1] = 1
  end
end
if moved > 0 then markReady(KEYS[6], held) end
return replies
