-- Claims up to one job per token, as BullMQ's moveToActive does for each: due delayed jobs are promoted first;
-- before every claim the rate limit, the pause and the global concurrency are checked; each job gets its
-- lock, `processedOn` (and `pb`, the worker's name, when given), an `ats` increment and an `active` event.
-- Replies {jobs, wait}: jobs as {id, token, name, data, opts, atm, attemptsMade, timestamp, defa, stacktrace,
-- rjk}; wait (when fewer jobs than tokens) is
-- {"limited", ms}, {"paused"}, {"maxed"} or {"empty", next delayed due time or 0}.
--- @keys wait active prioritized events limiter delayed meta pc marker
--- @argv queueBase now lockMs limiterMax limiterDuration workerName tokens...
-- limiterMax and limiterDuration: the worker's own limit, or "". workerName: BullMQ's `processedBy`, or "".
-- tokens: one lock token per job wanted.
--- @include rcall
--- @include isHeld
--- @include markReady
--- @include addPrioritized

local base, now, lockMs = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local settings = rcall("HMGET", KEYS[7], "paused", "concurrency", "max", "duration")

local due = rcall("ZRANGEBYSCORE", KEYS[6], 0, (now + 1) * 0x1000 - 1, "LIMIT", 0, 1000)
if #due > 0 then
  rcall("ZREM", KEYS[6], unpack(due))
  for _, id in ipairs(due) do
    local priority = tonumber(rcall("HGET", base .. id, "priority")) or 0
    if priority > 0 then addPrioritized(KEYS[3], KEYS[8], id, priority) else rcall("LPUSH", KEYS[1], id) end
    rcall("XADD", KEYS[4], "*", "event", "waiting", "jobId", id, "prev", "delayed")
    rcall("HSET", base .. id, "delay", 0)
  end
  markReady(KEYS[9], isHeld(KEYS[7], KEYS[2]))
end

-- The queue's limit wins over the worker's for the count; the worker's duration over the queue's.
local maxJobs = tonumber(settings[3] or ARGV[4])
local duration = tonumber(ARGV[5]) or tonumber(settings[4])
local jobs, wait = {}, nil
for i = 7, #ARGV do
  if maxJobs then
    local used = tonumber(rcall("GET", KEYS[5]) or "0") or 0
    if used >= maxJobs then
      local ttl = rcall("PTTL", KEYS[5])
      if ttl == 0 then
        rcall("DEL", KEYS[5])
      elseif ttl > 0 then
        wait = {"limited", ttl}
        break
      end
    end
  end
  if settings[1] then
    wait = {"paused"}
    break
  end
  if settings[2] and rcall("LLEN", KEYS[2]) >= (tonumber(settings[2]) or 0) then
    wait = {"maxed"}
    break
  end
  local id = rcall("RPOPLPUSH", KEYS[1], KEYS[2])
  while id and string.sub(id, 1, 2) == "0:" do
    rcall("LREM", KEYS[2], 1, id)
    id = rcall("RPOPLPUSH", KEYS[1], KEYS[2])
  end
  if not id then
    local popped = rcall("ZPOPMIN", KEYS[3])
    if popped[1] then
      id = popped[1]
      rcall("LPUSH", KEYS[2], id)
    else
      rcall("DEL", KEYS[8])
    end
  end
  if not id then
    local first = rcall("ZRANGE", KEYS[6], 0, 0, "WITHSCORES")
    wait = {"empty", first[2] and math.floor(tonumber(first[2]) / 0x1000) or 0}
    break
  end
  local jobKey = base .. id
  if maxJobs and duration and rcall("HEXISTS", jobKey, "defa") == 0 then
    if rcall("INCR", KEYS[5]) == 1 then rcall("PEXPIRE", KEYS[5], math.floor(math.abs(duration))) end
  end
  rcall("SET", jobKey .. ":lock", ARGV[i], "PX", lockMs)
  rcall("XADD", KEYS[4], "*", "event", "active", "jobId", id, "prev", "waiting")
  if ARGV[6] ~= "" then
    rcall("HSET", jobKey, "processedOn", now, "pb", ARGV[6])
  else
    rcall("HSET", jobKey, "processedOn", now)
  end
  rcall("HINCRBY", jobKey, "ats", 1)
  local fields = rcall("HMGET", jobKey, "name", "data", "opts", "atm", "attemptsMade", "timestamp", "defa",
    "stacktrace", "rjk")
  local job = {id, ARGV[i]}
  for f = 1, 9 do job[f + 2] = fields[f] or "" end
  jobs[#jobs + 1] = job
end
-- As BullMQ after every claim: the next idle worker looks too.
if #jobs > 0 then rcall("ZADD", KEYS[9], 0, "0") end
return {jobs, wait or {}}
