-- Removes jobs with their children, one reply per id: 1 removed, -1 no such job, 0 locked (the job or a
-- pending child; only without force), -8 the next job of a job scheduler, -4 not a hash, -9 its flow parent or a
-- child lies in another slot of the Redis Cluster (left as it was).
--- @keys schedulers
--- @argv queueBase force ids...
-- force: "1" removes jobs even while a worker holds them.
--- @include rcall
--- @include eventsCap
--- @include notAJob
--- @include splitJobKey
--- @include deleteJobKeys
--- @include releaseDedup
--- @include detachFromParent
--- @include clusterSlot
--- @include inAnotherSlot

local queueBase, force = ARGV[1], ARGV[2] == "1"

local function children(jobKey)
  local keys = rcall("HKEYS", jobKey .. ":processed")
  for _, key in ipairs(rcall("HKEYS", jobKey .. ":failed")) do keys[#keys + 1] = key end
  for _, key in ipairs(rcall("ZRANGE", jobKey .. ":unsuccessful", 0, -1)) do keys[#keys + 1] = key end
  for _, key in ipairs(rcall("SMEMBERS", jobKey .. ":dependencies")) do keys[#keys + 1] = key end
  return keys
end

local function isLocked(jobKey)
  if rcall("EXISTS", jobKey .. ":lock") == 1 then return true end
  for _, childKey in ipairs(rcall("SMEMBERS", jobKey .. ":dependencies")) do
    if isLocked(childKey) then return true end
  end
  return false
end

-- Whether the job's parent, or a child anywhere below it, lies in another slot of the cluster.
local function treeInAnotherSlot(jobKey)
  if inAnotherSlot(queueBase, rcall("HGET", jobKey, "parentKey")) then return true end
  for _, childKey in ipairs(children(jobKey)) do
    if inAnotherSlot(queueBase, childKey) or treeInAnotherSlot(childKey) then return true end
  end
  return false
end

local function leaveStates(base, id)
  for _, state in ipairs({"completed", "waiting-children", "delayed", "failed", "prioritized"}) do
    if rcall("ZREM", base .. state, id) == 1 then return state end
  end
  for _, state in ipairs({"wait", "paused", "active"}) do
    if rcall("LREM", base .. state, 1, id) == 1 then return state end
  end
  return "unknown"
end

local function removeTree(base, id, removedParentKey)
  local jobKey = base .. id
  local fields = rcall("HMGET", jobKey, "parentKey", "deid")
  if fields[1] and fields[1] ~= removedParentKey then detachFromParent(base, jobKey, fields[1], false) end
  for _, childKey in ipairs(children(jobKey)) do
    local childBase, childId = splitJobKey(childKey)
    if childBase and rcall("EXISTS", childKey) == 1 then removeTree(childBase, childId, jobKey) end
  end
  local prev = leaveStates(base, id)
  releaseDedup(base, id, fields[2])
  if force then rcall("DEL", jobKey .. ":lock") end
  if deleteJobKeys(jobKey) > 0 then
    rcall("XADD", base .. "events", "MAXLEN", "~", eventsCap(base .. "meta"), "*", "event", "removed",
      "jobId", id, "prev", prev)
  end
end

local replies = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local jobKey = queueBase .. id
  local refusal = notAJob(jobKey)
  local schedulerKey = not refusal and rcall("HGET", jobKey, "rjk")
  local schedulerNext = schedulerKey and rcall("ZSCORE", KEYS[1], schedulerKey)
  if refusal then
    replies[#replies + 1] = refusal
  elseif schedulerNext and id == "repeat:" .. schedulerKey .. ":" .. schedulerNext then
    replies[#replies + 1] = -8
  elseif clusterSlot(queueBase) and treeInAnotherSlot(jobKey) then
    replies[#replies + 1] = -9
  elseif not force and isLocked(jobKey) then
    replies[#replies + 1] = 0
  else
    removeTree(queueBase, id, nil)
    replies[#replies + 1] = 1
  end
end
return replies
