--- @include notAJob
--- @include clusterSlot
--- @include inAnotherSlot
-- Why a retry leaves a job in place, given the priority, opts and parentKey fields read from its key (all false
-- when the read failed): -1 its key is gone, -4 its key is not a hash, -9 its flow parent lies in another slot of
-- the Redis Cluster; nil when it moves (a hash without these fields moves all the same).
local function retryRefusal(queueBase, jobKey, priority, opts, parentKey)
  local code = not priority and not opts and notAJob(jobKey)
  if code then return code end
  if clusterSlot(queueBase) and inAnotherSlot(queueBase, parentKey) then return -9 end
  return nil
end
