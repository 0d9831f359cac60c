--- @include rcall
local function addPrioritized(prioritizedKey, counterKey, id, priority)
  local counter = rcall("INCR", counterKey)
  rcall("ZADD", prioritizedKey, priority * 0x100000000 + counter % 0x100000000, id)
end
