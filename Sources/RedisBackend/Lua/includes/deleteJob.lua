--- @include rcall
--- @include deleteJobKeys
--- @include releaseDedup
--- @include detachFromParent
-- Deletes a job that is no longer in any state list: its keys, its deduplication key, its parent link.
local function deleteJob(queueBase, id, hard)
  local jobKey = queueBase .. id
  -- A key of another type answers an error, which is the type check; a missing one, no fields.
  local fields = redis.pcall("HMGET", jobKey, "parentKey", "deid")
  if fields["err"] then return rcall("DEL", jobKey) end
  detachFromParent(queueBase, jobKey, fields[1], hard)
  releaseDedup(queueBase, id, fields[2])
  return deleteJobKeys(jobKey)
end
