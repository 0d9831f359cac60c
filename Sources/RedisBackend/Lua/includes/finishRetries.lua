--- @include rcall
--- @include markReady
-- Ends a batch of `moveRetried`: the moved ids leave the state's sorted set and enter the wait list (one LPUSH of
-- many ids leaves them in the order one LPUSH each would), the events stream is trimmed to its cap once, and
-- idle workers are woken.
local function finishRetries(stateKey, waitKey, eventsKey, markerKey, moved, pushes, cap, held)
  if #moved == 0 then return end
  rcall("ZREM", stateKey, unpack(moved))
  if #pushes.front > 0 then rcall("LPUSH", waitKey, unpack(pushes.front)) end
  if #pushes.back > 0 then rcall("RPUSH", waitKey, unpack(pushes.back)) end
  rcall("XTRIM", eventsKey, "MAXLEN", "~", cap)
  markReady(markerKey, held)
end
