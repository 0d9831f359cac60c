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

-- The pending job is replaced where it waits: delayed, prioritized or wait (on a paused queue BullMQ looks
-- in the legacy paused list instead, misses it and adds a second job; jobctl replaces it). An active or
-- finished one stays. Nothing is deleted before the new slot is known to be free, so a refusal changes
-- nothing.
local pendingId = prev and "repeat:" .. schedulerId .. ":" .. prev
local pendingPlace
if prev and rcall("EXISTS", queueBase .. pendingId) == 1 then
  if rcall("ZSCORE", KEYS[2], pendingId) then
    pendingPlace = KEYS[2]
  elseif rcall("ZSCORE", KEYS[5], pendingId) then
    pendingPlace = KEYS[5]
  elseif rcall("LPOS", KEYS[3], pendingId) then
    pendingPlace = KEYS[3]
  end
end
local replacing = pendingPlace ~= nil
if replacing then
  if every and not everyChanged then nextMillis = prev end
else
  scheduler["offset"] = newOffset
end

local function taken(id)
  return id ~= (replacing and pendingId) and rcall("EXISTS", queueBase .. id) == 1
end
local jobId = "repeat:" .. schedulerId .. ":" .. nextMillis
if taken(jobId) then
  if every then
    local scanned = 0
    repeat
      nextMillis = nextMillis + every
      jobId = "repeat:" .. schedulerId .. ":" .. nextMillis
      scanned = scanned + 1
    until not taken(jobId) or scanned >= 32
    if taken(jobId) then return -11 end
  elseif not replacing then
    return -10
  end
end
local cap = eventsCap(KEYS[4])
if replacing then
  if pendingPlace == KEYS[3] then
    rcall("LREM", KEYS[3], 1, pendingId)
  else
    rcall("ZREM", pendingPlace, pendingId)
  end
  releaseDedup(queueBase, pendingId, rcall("HGET", queueBase .. pendingId, "deid"))
  deleteJobKeys(queueBase .. pendingId)
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
