--- @include rcall
local function markNextDelayed(markerKey, delayedKey)
  local first = rcall("ZRANGE", delayedKey, 0, 0, "WITHSCORES")
  if first[2] then rcall("ZADD", markerKey, tonumber(first[2]) / 0x1000, "1") end
end
