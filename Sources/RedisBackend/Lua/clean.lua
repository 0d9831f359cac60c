-- Deletes up to `limit` finished jobs whose finish time (their score) is at or before a time; replies with
-- their ids.
--- @keys state events
--- @argv queueBase finishedBefore limit
--- @include rcall
--- @include deleteJob
--- @include clusterSlot
--- @include flowCheck

local queueBase = ARGV[1]
local ids = rcall("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[2], "LIMIT", 0, tonumber(ARGV[3]))
if clusterSlot(queueBase) then
  local refusal = flowCheck(queueBase, ids)
  if refusal then return refusal end
end
for _, id in ipairs(ids) do deleteJob(queueBase, id, true) end
if #ids > 0 then rcall("ZREM", KEYS[1], unpack(ids)) end
rcall("XADD", KEYS[2], "*", "event", "cleaned", "count", #ids)
return ids
