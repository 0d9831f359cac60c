-- Creates job schedulers' next iterations, as BullMQ's updateJobScheduler does when a worker takes their jobs;
-- per advance {"created", id}, {"notCurrent"}, {"duplicated", id} or {"legacy"}.
--- @keys schedulers delayed wait meta prioritized marker id events pc active
--- @argv queueBase now advances...
-- advances: per scheduler its id, the taken job's id (only the current iteration advances it), the client's next
-- time (a cron pattern's next due time; `every` is worked out here), the next job's options (JSON, short names).
--- @include rcall
--- @include eventsCap
--- @include enqueueSchedulerJob
--- @include everyNextMillis

local queueBase, now = ARGV[1], tonumber(ARGV[2])
local cap = eventsCap(KEYS[4])
local queueKeys = {delayed = KEYS[2], wait = KEYS[3], meta = KEYS[4], prioritized = KEYS[5],
  marker = KEYS[6], events = KEYS[8], pc = KEYS[9], active = KEYS[10]}
local replies = {}

for i = 3, #ARGV, 4 do
  local schedulerId, producer, clientNext = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local recordKey = KEYS[1] .. ":" .. schedulerId
  local prev = rcall("ZSCORE", KEYS[1], schedulerId)
  if not prev then
    replies[#replies + 1] = {"notCurrent"}
  elseif rcall("HEXISTS", recordKey, "ic") == 0 then
    replies[#replies + 1] = {"legacy"}
  elseif producer ~= "repeat:" .. schedulerId .. ":" .. tonumber(prev) then
    replies[#replies + 1] = {"notCurrent"}
  else
    prev = tonumber(prev)
    local record = rcall("HMGET", recordKey, "name", "data", "every", "offset")
    local opts = cjson.decode(ARGV[i + 3])
    local repeatOpts = type(opts["repeat"]) == "table" and opts["repeat"] or {}
    local every = tonumber(record[3]) or tonumber(repeatOpts["every"])
    local nextMillis = clientNext
    if every then
      nextMillis = everyNextMillis(prev, every, now, tonumber(record[4] or repeatOpts["offset"] or 0) or 0)
    end
    local nextId = "repeat:" .. schedulerId .. ":" .. nextMillis
    if rcall("EXISTS", queueBase .. nextId) == 1 then
      rcall("XADD", KEYS[8], "MAXLEN", "~", cap, "*", "event", "duplicated", "jobId", nextId)
      replies[#replies + 1] = {"duplicated", nextId}
    else
      rcall("ZADD", KEYS[1], nextMillis, schedulerId)
      rcall("HINCRBY", recordKey, "ic", 1)
      rcall("INCR", KEYS[7])
      local delay = math.max(nextMillis - now, 0)
      local name, data = record[1] or schedulerId, record[2] or "{}"
      enqueueSchedulerJob(queueKeys, queueBase, nextId, schedulerId, name, data, opts, now, delay, cap)
      replies[#replies + 1] = {"created", nextId}
    end
  end
end
return replies
