--- @include rcall
-- The marker wakes idle workers: member "0" = a job is ready, "1" = the next delayed job is due then.
local function markReady(markerKey, held)
  if not held then rcall("ZADD", markerKey, 0, "0") end
end
