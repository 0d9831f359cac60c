-- Deletes up to `limit` finished jobs whose finish time (their score) is at or before a time; replies with
-- their ids.
--- @keys state events
--- @argv queueBase finishedBefore limit
--- @include rcall
--- @include deleteJob

local queueBase = ARGV[1]
local ids = rcall("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[2], "LIMIT", 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do deleteJob(queueBase, id, true) end
if #ids > 0 then rcall("ZREM", KEYS[1], unpack(ids)) end
rcall("XADD", KEYS[2], "*", "event", "cleaned", "count", #ids)
return ids
