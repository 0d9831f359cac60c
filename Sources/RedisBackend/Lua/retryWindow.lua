-- Retries the next jobs of a finished state whose finish time lies in a range, the most recently finished
-- first, past the first `skip` of them (jobs earlier batches left in place). Replies {moved, id, code, ...}: an
-- id and code for each job left in place: -1 its key is gone, -4 its key is not a hash, -9 its flow parent lies
-- in another slot of the Redis Cluster.
--- @keys events state wait meta active marker prioritized pc
--- @argv queueBase state reset logLine upper lower skip limit
-- upper: the end of the range (exclusive), "+inf" or ms; lower: its start, "-inf" or ms; the rest as in retry.
--- @include rcall
--- @include eventsCap
--- @include isHeld
--- @include clusterSlot
--- @include retryRefusal
--- @include moveRetried
--- @include finishRetries

local queueBase, state, reset, logLine = ARGV[1], ARGV[2], ARGV[3] == "1", ARGV[4]
local upper, lower, skip, limit = ARGV[5], ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local below = upper == "+inf" and upper or "(" .. upper
-- The batch as rows of id, priority, opts and parentKey. One SORT reads them all, for a fraction of what
-- one HMGET per job costs; not on a Redis Cluster (which refuses its key patterns), nor with a "*" in the
-- prefix (SORT would substitute it), nor where an ACL refuses SORT's GET: there an HMGET per job.
local rows
if not clusterSlot(queueBase) and not string.find(queueBase, "*", 1, true) then
  local above = upper == "+inf" and 0 or rcall("ZCOUNT", KEYS[2], upper, "+inf")
  local count = math.min(limit, rcall("ZCOUNT", KEYS[2], lower, below) - skip)
  if count <= 0 then return {0} end
  local pattern = queueBase .. "*->"
  local sorted = redis.pcall("SORT", KEYS[2], "BY", "nosort", "DESC", "LIMIT", above + skip, count,
    "GET", "#", "GET", pattern .. "priority", "GET", pattern .. "opts", "GET", pattern .. "parentKey")
  if not sorted["err"] then rows = sorted end
end
if not rows then
  rows = {}
  for i, id in ipairs(rcall("ZREVRANGEBYSCORE", KEYS[2], below, lower, "LIMIT", skip, limit)) do
    local fields = redis.pcall("HMGET", queueBase .. id, "priority", "opts", "parentKey")
    -- A key of another type answers an error: its row has no fields, as SORT's would.
    if fields["err"] then fields = {false, false, false} end
    rows[4 * i - 3], rows[4 * i - 2], rows[4 * i - 1], rows[4 * i] = id, fields[1], fields[2], fields[3]
  end
end
if #rows == 0 then return {0} end
local held = isHeld(KEYS[4], KEYS[5])
local cap = eventsCap(KEYS[4])
local keys = {events = KEYS[1], prioritized = KEYS[7], pc = KEYS[8]}
local replies, moved, pushes = {0}, {}, {front = {}, back = {}}
for i = 1, #rows, 4 do
  local id, priority, opts, parentKey = rows[i], rows[i + 1], rows[i + 2], rows[i + 3]
  local jobKey = queueBase .. id
  local code = retryRefusal(queueBase, jobKey, priority, opts, parentKey)
  if code then
    replies[#replies + 1] = id
    replies[#replies + 1] = code
  else
    moved[#moved + 1] = id
    moveRetried(keys, jobKey, id, priority, opts, parentKey, state, reset, logLine, pushes)
  end
end
finishRetries(KEYS[2], KEYS[3], KEYS[1], KEYS[6], moved, pushes, cap, held)
replies[1] = #moved
return replies
