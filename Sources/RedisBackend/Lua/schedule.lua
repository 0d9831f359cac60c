-- Creates or changes a job scheduler and its pending job, as BullMQ's addJobScheduler (Queue.upsertJobScheduler)
-- does; replies {jobId, delay}, or -10 (the pattern's next job exists already), -11 (32 slots of `every` busy).
--- @keys schedulers delayed wait meta prioritized marker id events pc active
--- @argv queueBase now schedulerId nextMillis scheduler templateData templateOpts jobOpts
-- scheduler: JSON {name, tz?, pattern?, every?, limit?, offset?, startDate?, endDate?}; templateData: JSON text;
-- templateOpts and jobOpts: JSON with BullMQ's short names. nextMillis: a pattern's next time (for `every`, now).
--- @include rcall
--- @include eventsCap
--- @include enqueueSchedulerJob
--- @include everyNextMillis
--- @include deleteJobKeys
--- @include releaseDedup

local queueBase, now, schedulerId = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local nextMillis = tonumber(ARGV[4])
local scheduler, templateData = cjson.decode(ARGV[5]), ARGV[6]
local templateOpts, jobOpts = cjson.decode(ARGV[7]), cjson.decode(ARGV[8])
local recordKey = KEYS[1] .. ":" .. schedulerId
local cap = eventsCap(KEYS[4])
local queueKeys = {delayed = KEYS[2], wait = KEYS[3], meta = KEYS[4], prioritized = KEYS[5],
  marker = KEYS[6], events = KEYS[8], pc = KEYS[9], active = KEYS[10]}
local prev = tonumber(rcall("ZSCORE", KEYS[1], schedulerId))
local every = tonumber(scheduler["every"])
local repeatOpts = type(jobOpts["repeat"]) == "table" and jobOpts["repeat"] or {}
local offset = tonumber(scheduler["offset"] or repeatOpts["offset"] or 0)
local newOffset = offset
local everyChanged = false
if every then
  local from = prev
  if prev and tonumber(rcall("HGET", recordKey, "every")) ~= every then
    from = nil
    everyChanged = true
  end
  nextMillis, newOffset = everyNextMillis(from, every, now, offset, scheduler["startDate"])
end

-- The pending job is replaced, wherever it waits; an active or finished one stays.
local removedPending = false
if prev then
  local pendingId = "repeat:" .. schedulerId .. ":" .. prev
  local pendingKey = queueBase .. pendingId
  if rcall("EXISTS", pendingKey) == 1 then
    removedPending = rcall("ZREM", KEYS[2], pendingId) == 1 or rcall("ZREM", KEYS[5], pendingId) == 1
      or rcall("LREM", KEYS[3], 1, pendingId) > 0
    if removedPending then
      releaseDedup(queueBase, pendingId, rcall("HGET", pendingKey, "deid"))
      deleteJobKeys(pendingKey)
    end
  end
end
if removedPending then
  if every and not everyChanged then nextMillis = prev end
else
  scheduler["offset"] = newOffset
end

local jobId = "repeat:" .. schedulerId .. ":" .. nextMillis
if rcall("EXISTS", queueBase .. jobId) == 1 then
  if every then
    local scanned = 0
    repeat
      nextMillis = nextMillis + every
      jobId = "repeat:" .. schedulerId .. ":" .. nextMillis
      scanned = scanned + 1
    until rcall("EXISTS", queueBase .. jobId) == 0 or scanned >= 32
    if rcall("EXISTS", queueBase .. jobId) == 1 then return -11 end
  elseif not removedPending then
    return -10
  end
end

-- The record as BullMQ's storeJobScheduler writes it: the iteration count and an offset not given stay.
rcall("ZADD", KEYS[1], nextMillis, schedulerId)
local fields = {"name", scheduler["name"]}
for _, field in ipairs({"tz", "limit", "pattern", "startDate", "endDate", "every"}) do
  if scheduler[field] then
    fields[#fields + 1] = field
    fields[#fields + 1] = scheduler[field]
  end
end
local keptOffset = scheduler["offset"] or tonumber(rcall("HGET", recordKey, "offset"))
if keptOffset then
  fields[#fields + 1] = "offset"
  fields[#fields + 1] = keptOffset
end
local storedOpts = cjson.encode(templateOpts)
if storedOpts ~= "{}" then
  fields[#fields + 1] = "opts"
  fields[#fields + 1] = storedOpts
end
if templateData ~= "{}" then
  fields[#fields + 1] = "data"
  fields[#fields + 1] = templateData
end
fields[#fields + 1] = "ic"
fields[#fields + 1] = rcall("HGET", recordKey, "ic") or 1
rcall("DEL", recordKey)
rcall("HSET", recordKey, unpack(fields))
rcall("INCR", KEYS[7])
local delay = math.max(nextMillis - now, 0)
local name = scheduler["name"]
enqueueSchedulerJob(queueKeys, queueBase, jobId, schedulerId, name, templateData, jobOpts, now, delay, cap)
return {jobId, delay}
