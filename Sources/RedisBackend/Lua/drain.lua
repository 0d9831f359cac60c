-- Deletes up to `limit` jobs of one ready state, the oldest first, leaving the scheduled next job of each
-- job scheduler. Replies {removed, kept}.
--- @keys state schedulers
--- @argv queueBase kind limit skip
-- kind: "list" or "zset", the type of the state's key; skip: jobs left at the old end (kept ones).
--- @include rcall
--- @include deleteJob
--- @include clusterSlot
--- @include flowCheck

local queueBase, kind, limit, skip = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local scheduled = {}
local schedulers = rcall("ZRANGE", KEYS[2], 0, -1, "WITHSCORES")
for i = 1, #schedulers, 2 do scheduled["repeat:" .. schedulers[i] .. ":" .. schedulers[i + 1]] = true end
local removed, kept, gone = 0, 0, {}
if kind == "list" then
  -- Workers take from the right end, so the oldest jobs are there.
  local ids = rcall("LRANGE", KEYS[1], -(skip + limit), -(skip + 1))
  if clusterSlot(queueBase) then
    local refusal = flowCheck(queueBase, ids)
    if refusal then return refusal end
  end
  -- With no job kept in or after this stretch, it goes with one LTRIM; otherwise each deleted id is marked
  -- and the marks removed.
  local marking = skip > 0
  for i = #ids, 1, -1 do
    if scheduled[ids[i]] then marking = true end
  end
  for i = #ids, 1, -1 do
    local id = ids[i]
    if scheduled[id] then
      kept = kept + 1
    else
      if marking then rcall("LSET", KEYS[1], i - 1 - #ids - skip, "") end
      deleteJob(queueBase, id, true)
      removed = removed + 1
    end
  end
  if marking then
    if removed > 0 then rcall("LREM", KEYS[1], -removed, "") end
  elseif #ids > 0 then
    rcall("LTRIM", KEYS[1], 0, -(#ids + 1))
  end
else
  local ids = rcall("ZRANGE", KEYS[1], skip, skip + limit - 1)
  if clusterSlot(queueBase) then
    local refusal = flowCheck(queueBase, ids)
    if refusal then return refusal end
  end
  for _, id in ipairs(ids) do
    if scheduled[id] then
      kept = kept + 1
    else
      deleteJob(queueBase, id, true)
      gone[#gone + 1] = id
    end
  end
  if #gone > 0 then rcall("ZREM", KEYS[1], unpack(gone)) end
  removed = #gone
end
return {removed, kept}
