-- Retries failed or completed jobs, one reply per id: 1 moved, -1 no such job, -3 not in that state, -4 the
-- job's key is not a hash, -9 its flow parent lies in another slot of the Redis Cluster (left as it was).
--- @keys events state wait meta active marker prioritized pc
--- @argv queueBase state reset logLine ids...
-- state: "failed" or "completed"; reset: "1" clears the attempt counters; logLine: added to each moved job's log
-- unless empty.
--- @include rcall
--- @include eventsCap
--- @include isHeld
--- @include notAJob
--- @include clusterSlot
--- @include inAnotherSlot
--- @include retryRefusal
--- @include moveRetried
--- @include finishRetries

local queueBase, state, reset, logLine = ARGV[1], ARGV[2], ARGV[3] == "1", ARGV[4]
local held = isHeld(KEYS[4], KEYS[5])
local cap = eventsCap(KEYS[4])
local keys = {events = KEYS[1], prioritized = KEYS[7], pc = KEYS[8]}
-- The whole batch's membership in one call; per job there are then only the reads and writes of its own
-- keys and its event.
local scores = rcall("ZMSCORE", KEYS[2], unpack(ARGV, 5))
local replies, seen, moved, pushes = {}, {}, {}, {front = {}, back = {}}
for i = 5, #ARGV do
  local id = ARGV[i]
  local jobKey = queueBase .. id
  local code
  if not scores[i - 4] or seen[id] then
    code = notAJob(jobKey)
    local parentKey = not code and clusterSlot(queueBase) and rcall("HGET", jobKey, "parentKey")
    if parentKey and inAnotherSlot(queueBase, parentKey) then code = -9 end
    code = code or -3
  else
    -- A key of another type answers an error: no fields, as for a key that is gone.
    local fields = redis.pcall("HMGET", jobKey, "priority", "opts", "parentKey")
    if fields["err"] then fields = {false, false, false} end
    code = retryRefusal(queueBase, jobKey, fields[1], fields[2], fields[3])
    if not code then
      code = 1
      seen[id] = true
      moved[#moved + 1] = id
      moveRetried(keys, jobKey, id, fields[1], fields[2], fields[3], state, reset, logLine, pushes)
    end
  end
  replies[#replies + 1] = code
end
finishRetries(KEYS[2], KEYS[3], KEYS[1], KEYS[6], moved, pushes, cap, held)
return replies
