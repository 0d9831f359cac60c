--- @include rcall
--- @include clusterSlot
-- Whether a key (a flow parent or child in a queue with another hash tag) lies in another slot of the Redis
-- Cluster than the queue's keys. A script must not touch such a key: the node refuses keys of slots it does not
-- serve, and the script's writes before that stay. Callers check before they write anything for the job.
local function inAnotherSlot(queueBase, key)
  local slot = clusterSlot(queueBase)
  return slot and type(key) == "string" and rcall("CLUSTER", "KEYSLOT", key) ~= slot
end
