-- The hash slot of the queue's keys on a Redis Cluster, false on a single server (where CLUSTER KEYSLOT is an
-- error). Asked once per script run.
local queueSlot
local function clusterSlot(queueBase)
  if queueSlot == nil then
    local slot = redis.pcall("CLUSTER", "KEYSLOT", queueBase)
    queueSlot = type(slot) == "number" and slot or false
  end
  return queueSlot
end
