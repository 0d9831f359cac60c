--- @include rcall
-- A deduplication key that still points at the removed job is released.
local function releaseDedup(queueBase, id, dedupId)
  if not dedupId then return end
  local dedupKey = queueBase .. "de:" .. dedupId
  if rcall("GET", dedupKey) == id then rcall("DEL", dedupKey, queueBase .. "dn:" .. dedupId) end
end
