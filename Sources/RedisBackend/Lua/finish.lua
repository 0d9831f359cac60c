-- Finishes jobs as BullMQ's moveToFinished, retryJob and moveToDelayed do, one reply per job: 0 done, -1 no
-- such job, -2 its lock is gone, -6 another worker holds it, -3 not active, -9 its flow parent lies in another
-- slot of the Redis Cluster (the job is left as it was).
--- @keys wait active prioritized events stalled meta pc marker delayed completed failed metricsCompleted metricsCompletedData metricsFailed metricsFailedData
--- @argv queueBase now metricsDataPoints jobs...
-- metricsDataPoints: "" records no metrics. jobs: per job its id, token, kind ("complete", "fail", "retry",
-- "delay"), return value or failure reason, stack traces (JSON) or "", attempts, keep count (-1 all, 0 none), keep
-- age (s) or "", lifo ("1"/"0") or delay (ms).
--- @include rcall
--- @include eventsCap
--- @include isHeld
--- @include markReady
--- @include markNextDelayed
--- @include addPrioritized
--- @include addDelayed
--- @include splitJobKey
--- @include deleteJobKeys
--- @include releaseDedup
--- @include detachFromParent
--- @include clusterSlot
--- @include inAnotherSlot

local base, now, maxPoints = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local cap = eventsCap(KEYS[6])
local replies = {}
local finished = false

-- BullMQ's per-minute metrics: a running count, and one data point per minute passed (zeros for idle ones).
local function countInMetrics(countKey, pointsKey)
  local count = rcall("HINCRBY", countKey, "count", 1) - 1
  local previous = rcall("HGET", countKey, "prevTS")
  if not previous then
    rcall("HSET", countKey, "prevTS", now, "prevCount", 0)
    return
  end
  local minutes = math.min(math.floor(now / 60000) - math.floor(previous / 60000), maxPoints)
  if minutes > 0 then
    rcall("LPUSH", pointsKey, count - (tonumber(rcall("HGET", countKey, "prevCount")) or 0))
    for _ = 2, minutes do rcall("LPUSH", pointsKey, 0) end
    rcall("LTRIM", pointsKey, 0, maxPoints - 1)
    rcall("HSET", countKey, "prevCount", count, "prevTS", now)
  end
end

-- A parent goes on as BullMQ's moveParentToWait moves it: delayed if it has a delay, prioritized if it has
-- a priority, else to the end of wait.
local function moveParentToWait(parentBase, parentId)
  local fields = rcall("HMGET", parentBase .. parentId, "priority", "delay")
  local priority, delay = tonumber(fields[1]) or 0, tonumber(fields[2]) or 0
  if delay > 0 then
    rcall("ZADD", parentBase .. "delayed", (now + delay) * 0x1000, parentId)
    rcall("XADD", parentBase .. "events", "*", "event", "delayed", "jobId", parentId, "delay", now + delay)
    markNextDelayed(parentBase .. "marker", parentBase .. "delayed")
    return
  end
  local held = isHeld(parentBase .. "meta", parentBase .. "active")
  if priority > 0 then
    addPrioritized(parentBase .. "prioritized", parentBase .. "pc", parentId, priority)
  else
    rcall("RPUSH", parentBase .. "wait", parentId)
  end
  markReady(parentBase .. "marker", held)
  rcall("XADD", parentBase .. "events", "*", "event", "waiting", "jobId", parentId,
    "prev", "waiting-children")
end

-- A parent none of whose children is pending any more leaves waiting-children.
local function releaseParent(parentKey)
  local parentBase, parentId = splitJobKey(parentKey)
  if parentBase and rcall("ZREM", parentBase .. "waiting-children", parentId) == 1 then
    moveParentToWait(parentBase, parentId)
  end
end

-- A flow child failed for good: what its parent does follows the child's options (BullMQ's
-- moveChildFromDependenciesIfNeeded). failParentOnFailure: the parent runs now and fails at once (its
-- deferred failure names the child); continueParentOnFailure: it runs now; ignoreDependencyOnFailure and
-- removeDependencyOnFailure: it runs once no other child is pending. Without any of them it keeps waiting.
local function childFailed(parentText, childKey, reason)
  local ok, parent = pcall(cjson.decode, parentText or "")
  if not ok or type(parent) ~= "table" or not parent["queueKey"] or not parent["id"] then return end
  local parentBase, parentId = parent["queueKey"] .. ":", tostring(parent["id"])
  local parentKey = parentBase .. parentId
  if rcall("EXISTS", parentKey) == 0 then return end
  local dependencies = parentKey .. ":dependencies"
  if parent["fpof"] then
    if rcall("SREM", dependencies, childKey) == 0 then return end
    rcall("ZADD", parentKey .. ":unsuccessful", now, childKey)
    local deferred = "child " .. childKey .. " failed"
    local waited = rcall("ZREM", parentBase .. "waiting-children", parentId) == 1
    if not waited and rcall("ZREM", parentBase .. "delayed", parentId) == 1 then
      waited = true
      rcall("HSET", parentKey, "delay", 0)
    end
    if waited then
      rcall("HSET", parentKey, "defa", deferred)
      moveParentToWait(parentBase, parentId)
    elseif not rcall("ZSCORE", parentBase .. "failed", parentId) then
      rcall("HSET", parentKey, "defa", deferred)
    end
  elseif parent["cpof"] then
    if rcall("SREM", dependencies, childKey) == 0 then return end
    rcall("HSET", parentKey .. ":failed", childKey, reason)
    releaseParent(parentKey)
  elseif parent["idof"] or parent["rdof"] then
    if rcall("SREM", dependencies, childKey) == 0 then return end
    if rcall("SCARD", dependencies) == 0 then releaseParent(parentKey) end
    if parent["idof"] then rcall("HSET", parentKey .. ":failed", childKey, reason) end
  end
end

local function prune(target, keepCount, keepAge)
  local gone = {}
  if keepAge then
    gone = rcall("ZRANGEBYSCORE", target, 0, now - keepAge * 1000, "LIMIT", 0, 1000)
  end
  if keepCount and keepCount > 0 then
    for _, id in ipairs(rcall("ZRANGE", target, 0, -(keepCount + 1))) do gone[#gone + 1] = id end
  end
  for _, id in ipairs(gone) do
    deleteJobKeys(base .. id)
    rcall("ZREM", target, id)
  end
end

for i = 4, #ARGV, 9 do
  local id, token, kind, text, stack = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local jobKey = base .. id
  local lock = rcall("GET", jobKey .. ":lock")
  if rcall("EXISTS", jobKey) == 0 then
    replies[#replies + 1] = -1
  elseif lock ~= token then
    replies[#replies + 1] = lock and -6 or -2
  elseif (kind == "complete" or kind == "fail") and clusterSlot(base)
    and inAnotherSlot(base, rcall("HGET", jobKey, "parentKey")) then
    replies[#replies + 1] = -9
  else
    rcall("DEL", jobKey .. ":lock")
    rcall("SREM", KEYS[5], id)
    if kind ~= "complete" then
      if stack ~= "" then
        rcall("HSET", jobKey, "failedReason", text, "stacktrace", stack)
      else
        rcall("HSET", jobKey, "failedReason", text)
      end
    end
    if rcall("LREM", KEYS[2], -1, id) == 0 then
      replies[#replies + 1] = -3
    else
      local attemptsMade = rcall("HINCRBY", jobKey, "atm", 1)
      if kind == "retry" then
        local held = isHeld(KEYS[6], KEYS[2])
        local priority = tonumber(rcall("HGET", jobKey, "priority")) or 0
        if priority > 0 then
          addPrioritized(KEYS[3], KEYS[7], id, priority)
        else
          rcall(ARGV[i + 8] == "1" and "RPUSH" or "LPUSH", KEYS[1], id)
        end
        markReady(KEYS[8], held)
        rcall("XADD", KEYS[4], "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", id, "prev", "active")
      elseif kind == "delay" then
        local due = now + tonumber(ARGV[i + 8])
        rcall("HSET", jobKey, "delay", ARGV[i + 8])
        addDelayed(KEYS[9], id, due)
        rcall("XADD", KEYS[4], "MAXLEN", "~", cap, "*", "event", "delayed", "jobId", id, "delay", due)
        markNextDelayed(KEYS[8], KEYS[9])
      else
        local target = kind == "complete" and KEYS[10] or KEYS[11]
        local field = kind == "complete" and "returnvalue" or "failedReason"
        local keepCount = tonumber(ARGV[i + 6])
        local fields = rcall("HMGET", jobKey, "parentKey", "deid", "parent")
        releaseDedup(base, id, fields[2])
        local parentKey = fields[1]
        if kind == "complete" and parentKey and rcall("EXISTS", parentKey) == 1 then
          -- A flow child done: its parent counts it processed, and runs once none is pending.
          if rcall("SREM", parentKey .. ":dependencies", jobKey) == 1 then
            rcall("HSET", parentKey .. ":processed", jobKey, text)
            if rcall("SCARD", parentKey .. ":dependencies") == 0 then releaseParent(parentKey) end
          end
        elseif kind == "fail" and parentKey then
          childFailed(fields[3], jobKey, text)
        end
        if keepCount == 0 then
          -- A failed child removed at once no longer holds its parent back (BullMQ's
          -- removeParentDependencyKey).
          if kind == "fail" then detachFromParent(base, jobKey, parentKey, false) end
          deleteJobKeys(jobKey)
        else
          rcall("ZADD", target, now, id)
          rcall("HSET", jobKey, field, text, "finishedOn", now)
          if kind == "fail" then rcall("HDEL", jobKey, "defa") end
          prune(target, keepCount, tonumber(ARGV[i + 7]))
        end
        rcall("XADD", KEYS[4], "*", "event", kind == "complete" and "completed" or "failed", "jobId", id,
          field, text, "prev", "active")
        if kind == "fail" and attemptsMade >= (tonumber(ARGV[i + 5]) or 0) then
          rcall("XADD", KEYS[4], "*", "event", "retries-exhausted", "jobId", id,
            "attemptsMade", attemptsMade)
        end
        if maxPoints then
          if kind == "complete" then
            countInMetrics(KEYS[12], KEYS[13])
          else
            countInMetrics(KEYS[14], KEYS[15])
          end
        end
        finished = true
      end
      replies[#replies + 1] = 0
    end
  end
end
if finished then
  rcall("XTRIM", KEYS[4], "MAXLEN", "~", cap)
  if rcall("LLEN", KEYS[1]) + rcall("LLEN", KEYS[2]) + rcall("ZCARD", KEYS[3]) == 0 then
    rcall("XADD", KEYS[4], "*", "event", "drained")
  end
end
return replies
