-- BullMQ's stalled check, at most once per interval across all workers (the `stalled-check` key): active
-- jobs seen on the previous check whose lock is gone go back to the front of wait (a job stalled more often
-- than allowed gets `defa` and fails on its next claim, unless a job scheduler made it: BullMQ never fails those
-- for stalling); then every active job is noted for the next check.
--- @keys stalled wait active stalledCheck meta marker events schedulers
--- @argv maxStalledCount queueBase now intervalMs
--- @include rcall
--- @include eventsCap
--- @include isHeld
--- @include markReady

if rcall("EXISTS", KEYS[4]) == 1 then return {} end
rcall("SET", KEYS[4], ARGV[3], "PX", ARGV[4])
rcall("XTRIM", KEYS[7], "MAXLEN", "~", eventsCap(KEYS[5]))
-- A job of a job scheduler that still exists (its hash, or the legacy repeatable job's entry in the set).
local function fromScheduler(jobKey)
  local schedulerId = rcall("HGET", jobKey, "rjk")
  if not schedulerId then return false end
  return rcall("EXISTS", KEYS[8] .. ":" .. schedulerId) == 1
    or rcall("ZSCORE", KEYS[8], schedulerId) ~= false
end

local moved = {}
local suspects = rcall("SMEMBERS", KEYS[1])
if #suspects > 0 then
  rcall("DEL", KEYS[1])
  for _, id in ipairs(suspects) do
    if string.sub(id, 1, 2) == "0:" then
      rcall("LREM", KEYS[3], 1, id)
    else
      local jobKey = ARGV[2] .. id
      if rcall("EXISTS", jobKey .. ":lock") == 0 and rcall("LREM", KEYS[3], 1, id) > 0 then
        if rcall("HINCRBY", jobKey, "stc", 1) > tonumber(ARGV[1]) and not fromScheduler(jobKey) then
          rcall("HSET", jobKey, "defa", "job stalled more than allowable limit")
        end
        rcall("RPUSH", KEYS[2], id)
        markReady(KEYS[6], isHeld(KEYS[5], KEYS[3]))
        rcall("XADD", KEYS[7], "*", "event", "waiting", "jobId", id, "prev", "active")
        rcall("XADD", KEYS[7], "*", "event", "stalled", "jobId", id)
        moved[#moved + 1] = id
      end
    end
  end
end
local active = rcall("LRANGE", KEYS[3], 0, -1)
for i = 1, #active, 5000 do
  rcall("SADD", KEYS[1], unpack(active, i, math.min(i + 4999, #active)))
end
return moved
