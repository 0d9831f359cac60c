-- Retries the next jobs of a finished state whose finish time lies in a range, the most recently finished first,
-- past the first `skip` of them (jobs earlier batches left in place). Replies {moved, id, code, ...}: an id and
-- code for each job left in place: -1 its key is gone, -4 its key is not a hash, -9 its flow parent lies in another
-- slot of the Redis Cluster.
--- @keys events state wait meta active marker prioritized pc
--- @argv queueBase state reset logLine newest oldest skip limit
-- newest, oldest: ZREVRANGEBYSCORE bounds ("(1700000000000", "-inf"); the rest as in retry.
--- @include rcall
--- @include eventsCap
--- @include isHeld
--- @include clusterSlot
--- @include inAnotherSlot
--- @include moveRetried
--- @include finishRetries

local queueBase, state, reset, logLine = ARGV[1], ARGV[2], ARGV[3] == "1", ARGV[4]
local ids = rcall("ZREVRANGEBYSCORE", KEYS[2], ARGV[5], ARGV[6], "LIMIT", ARGV[7], ARGV[8])
if #ids == 0 then return {0} end
local held = isHeld(KEYS[4], KEYS[5])
local cap = eventsCap(KEYS[4])
local keys = {events = KEYS[1], prioritized = KEYS[7], pc = KEYS[8]}
local replies, moved, pushes = {0}, {}, {front = {}, back = {}}
for _, id in ipairs(ids) do
  local jobKey = queueBase .. id
  -- A key of another type answers an error, which is the type check.
  local fields = redis.pcall("HMGET", jobKey, "priority", "opts", "parentKey")
  local code
  if fields["err"] then
    code = -4
  elseif not fields[1] and not fields[2] and rcall("EXISTS", jobKey) == 0 then
    code = -1
  elseif clusterSlot(queueBase) and inAnotherSlot(queueBase, fields[3]) then
    code = -9
  else
    moved[#moved + 1] = id
    moveRetried(keys, jobKey, id, fields, state, reset, logLine, pushes)
  end
  if code then
    replies[#replies + 1] = id
    replies[#replies + 1] = code
  end
end
finishRetries(KEYS[2], KEYS[3], KEYS[1], KEYS[6], moved, pushes, cap, held)
replies[1] = #moved
return replies
