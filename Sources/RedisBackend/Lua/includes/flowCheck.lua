--- @include inAnotherSlot
-- Before a batch deletes anything: an error reply naming the first job whose flow parent lies in another slot
-- of the Redis Cluster (deleting it would change that parent), else nil.
local function flowCheck(queueBase, ids)
  for _, id in ipairs(ids) do
    local parentKey = redis.pcall("HGET", queueBase .. id, "parentKey")
    if inAnotherSlot(queueBase, parentKey) then
      return redis.error_reply("CROSSSLOTFLOW job " .. id .. " has its flow parent " .. parentKey
        .. " in another slot of the Redis Cluster")
    end
  end
end
