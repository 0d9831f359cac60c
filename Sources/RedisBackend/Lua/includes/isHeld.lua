--- @include rcall
-- Workers take no jobs from a paused queue, nor from one at its global concurrency.
local function isHeld(metaKey, activeKey)
  local settings = rcall("HMGET", metaKey, "paused", "concurrency")
  if settings[1] then return true end
  if settings[2] then return rcall("LLEN", activeKey) >= tonumber(settings[2]) end
  return false
end
