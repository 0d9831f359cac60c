-- Creates job schedulers' next iterations, as BullMQ's updateJobScheduler does when a worker takes their jobs;
-- per advance {"created", id}, {"notCurrent"}, {"duplicated", id} or {"legacy"}.
--- @keys schedulers delayed wait meta prioritized marker id events pc active
--- @argv queueBase now advances...
-- advances: per scheduler its id, the taken job's id (only the current iteration advances it), the client's next
-- time (a cron pattern's next due time; `every` is worked out here), the next job's options (JSON, short names).
--- @include rcall
--- @include eventsCap
--- @include isHeld
--- @include markReady
--- @include markNextDelayed
--- @include addPrioritized
--- @include addDelayed

local queueBase, now = ARGV[1], tonumber(ARGV[2])
local cap = eventsCap(KEYS[4])
local replies = {}

-- BullMQ's getJobSchedulerEveryNextMillis given a previous time: missed slots are skipped, phase kept.
local function everyNext(prev, every, offset)
  local nextMillis = prev + every
  if nextMillis < now then
    local aligned = math.floor(now / every) * every + offset
    nextMillis = aligned <= now and aligned + every or aligned
  end
  return math.floor(nextMillis)
end

local function enqueue(id, schedulerId, name, data, opts, delay)
  local priority = tonumber(opts["priority"]) or 0
  local fields = {"name", name, "data", data, "opts", cjson.encode(opts), "timestamp", ARGV[2],
    "delay", delay, "priority", priority, "rjk", schedulerId}
  if type(opts["de"]) == "table" and opts["de"]["id"] then
    fields[#fields + 1] = "deid"
    fields[#fields + 1] = opts["de"]["id"]
  end
  rcall("HSET", queueBase .. id, unpack(fields))
  rcall("XADD", KEYS[8], "*", "event", "added", "jobId", id, "name", name)
  if delay > 0 then
    addDelayed(KEYS[2], id, now + delay)
    rcall("XADD", KEYS[8], "MAXLEN", "~", cap, "*", "event", "delayed", "jobId", id, "delay", now + delay)
    markNextDelayed(KEYS[6], KEYS[2])
  else
    if priority > 0 then
      addPrioritized(KEYS[5], KEYS[9], id, priority)
    else
      rcall(opts["lifo"] and "RPUSH" or "LPUSH", KEYS[3], id)
    end
    markReady(KEYS[6], isHeld(KEYS[4], KEYS[10]))
    rcall("XADD", KEYS[8], "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", id)
  end
end

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
      nextMillis = everyNext(prev, every, tonumber(record[4] or repeatOpts["offset"] or 0) or 0)
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
      opts["delay"] = delay
      opts["jobId"] = nextId
      enqueue(nextId, schedulerId, record[1] or schedulerId, record[2] or "{}", opts, delay)
      replies[#replies + 1] = {"created", nextId}
    end
  end
end
return replies
