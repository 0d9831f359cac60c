--- @include rcall
-- The events stream's length cap, stored in meta; BullMQ writes its default when it is missing.
local function eventsCap(metaKey)
  local cap = rcall("HGET", metaKey, "opts.maxLenEvents")
  if not cap then
    cap = 10000
    rcall("HSET", metaKey, "opts.maxLenEvents", cap)
  end
  return cap
end
