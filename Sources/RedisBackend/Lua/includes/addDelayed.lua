--- @include rcall
-- Score: due time * 4096 plus a tie counter, so that jobs due in the same ms keep their order.
local function addDelayed(delayedKey, id, due)
  local low, high = due * 0x1000, (due + 1) * 0x1000 - 1
  local score = low
  local last = rcall("ZREVRANGEBYSCORE", delayedKey, high, low, "WITHSCORES", "LIMIT", 0, 1)
  if last[2] then score = math.min(tonumber(last[2]) + 1, high) end
  rcall("ZADD", delayedKey, score, id)
end
