-- Adds jobs in order; replies {id, 1 if a job with that id already existed (nothing added) else 0} each.
--- @keys wait meta id delayed prioritized active events marker pc
--- @argv queueBase logLine jobs...
-- logLine: added to each new job's log unless empty; jobs: per job its custom id or "", name, data, opts,
-- timestamp, delay, priority, lifo ("1"/"0").
--- @include rcall
--- @include eventsCap
--- @include isHeld
--- @include markReady
--- @include markNextDelayed
--- @include addPrioritized
--- @include addDelayed
--- @include addJobLog

local queueBase, logLine = ARGV[1], ARGV[2]
local cap = eventsCap(KEYS[2])
local held = isHeld(KEYS[2], KEYS[6])
-- Per job only what orders it (id, hash, events, delayed or prioritized score); the wait list's pushes,
-- the marker and the stream's trim are one call each per batch, leaving what one each per job would.
local replies, front, back, ready, delayed = {}, {}, {}, false, false
for i = 3, #ARGV, 8 do
  local name, timestamp = ARGV[i + 1], tonumber(ARGV[i + 4])
  local delay, priority = tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6])
  -- BullMQ counts every add, custom ids included.
  local counter = rcall("INCR", KEYS[3])
  local id = ARGV[i] ~= "" and ARGV[i] or tostring(counter)
  local jobKey = queueBase .. id
  if rcall("EXISTS", jobKey) == 1 then
    rcall("XADD", KEYS[7], "*", "event", "duplicated", "jobId", id)
    replies[#replies + 1] = {id, 1}
  else
    rcall("HSET", jobKey, "name", name, "data", ARGV[i + 2], "opts", ARGV[i + 3], "timestamp", ARGV[i + 4],
      "delay", delay, "priority", priority)
    rcall("XADD", KEYS[7], "*", "event", "added", "jobId", id, "name", name)
    if logLine ~= "" then addJobLog(jobKey, logLine, ARGV[i + 3]) end
    if delay > 0 then
      local due = timestamp + delay
      addDelayed(KEYS[4], id, due)
      rcall("XADD", KEYS[7], "*", "event", "delayed", "jobId", id, "delay", due)
      delayed = true
    else
      if priority > 0 then
        addPrioritized(KEYS[5], KEYS[9], id, priority)
      elseif ARGV[i + 7] == "1" then
        back[#back + 1] = id
      else
        front[#front + 1] = id
      end
      ready = true
      rcall("XADD", KEYS[7], "*", "event", "waiting", "jobId", id)
    end
    replies[#replies + 1] = {id, 0}
  end
end
-- One LPUSH of many ids leaves the order one LPUSH each would; head and tail pushes commute.
if #front > 0 then rcall("LPUSH", KEYS[1], unpack(front)) end
if #back > 0 then rcall("RPUSH", KEYS[1], unpack(back)) end
if ready then markReady(KEYS[8], held) end
if delayed then markNextDelayed(KEYS[8], KEYS[4]) end
rcall("XTRIM", KEYS[7], "MAXLEN", "~", cap)
return replies
