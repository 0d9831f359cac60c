-- Renews locks still held with the given token; replies with the ids whose lock was not.
--- @keys stalled
--- @argv queueBase lockMs locks...
-- locks: id and token per job.

local failed = {}
for i = 3, #ARGV, 2 do
  local lockKey = ARGV[1] .. ARGV[i] .. ":lock"
  if redis.call("GET", lockKey) == ARGV[i + 1] then
    redis.call("SET", lockKey, ARGV[i + 1], "PX", ARGV[2])
    redis.call("SREM", KEYS[1], ARGV[i])
  else
    failed[#failed + 1] = ARGV[i]
  end
end
return failed
