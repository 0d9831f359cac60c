-- BullMQ's getJobSchedulerEveryNextMillis: the first time of an `every` scheduler (after its start date, or at
-- its offset's next slot, or now), or the one after `prev`, skipping missed slots but keeping the phase. Returns
-- the time and the phase.
local function everyNextMillis(prev, every, now, offset, startDate)
  local nextMillis
  if not prev then
    if startDate then
      nextMillis = math.max(tonumber(startDate), now)
    elseif offset and offset > 0 then
      nextMillis = math.floor(now / every) * every + offset
      if nextMillis <= now then nextMillis = nextMillis + every end
    else
      nextMillis = now
    end
  else
    nextMillis = prev + every
    if nextMillis < now then
      local aligned = math.floor(now / every) * every + (offset or 0)
      nextMillis = aligned <= now and aligned + every or aligned
    end
  end
  if not offset or offset == 0 then offset = nextMillis - math.floor(nextMillis / every) * every end
  return math.floor(nextMillis), math.floor(offset)
end
