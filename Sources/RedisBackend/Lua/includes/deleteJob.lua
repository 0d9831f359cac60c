--- @include rcall
--- @include jobType
--- @include deleteJobKeys
--- @include releaseDedup
--- @include detachFromParent
-- Deletes a job that is no longer in any state list: its keys, its deduplication key, its parent link.
local function deleteJob(queueBase, id, hard)
  local jobKey = queueBase .. id
  if jobType(jobKey) ~= "hash" then return rcall("DEL", jobKey) end
  local fields = rcall("HMGET", jobKey, "parentKey", "deid")
  detachFromParent(queueBase, jobKey, fields[1], hard)
  releaseDedup(queueBase, id, fields[2])
  return deleteJobKeys(jobKey)
end
