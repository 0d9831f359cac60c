--- @include rcall
--- @include isHeld
--- @include markReady
--- @include markNextDelayed
--- @include addPrioritized
--- @include addDelayed
-- A scheduler's iteration job, stored and placed as BullMQ's addJobFromScheduler does. `keys`: the queue's
-- delayed, wait, meta, prioritized, marker, events, pc and active keys by name.
local function enqueueSchedulerJob(keys, queueBase, id, schedulerId, name, data, opts, now, delay, cap)
  opts["delay"] = delay
  opts["jobId"] = id
  local priority = tonumber(opts["priority"]) or 0
  local fields = {"name", name, "data", data, "opts", cjson.encode(opts), "timestamp", now,
    "delay", delay, "priority", priority, "rjk", schedulerId}
  if type(opts["de"]) == "table" and opts["de"]["id"] then
    fields[#fields + 1] = "deid"
    fields[#fields + 1] = opts["de"]["id"]
  end
  rcall("HSET", queueBase .. id, unpack(fields))
  rcall("XADD", keys.events, "*", "event", "added", "jobId", id, "name", name)
  if delay > 0 then
    local due = now + delay
    addDelayed(keys.delayed, id, due)
    rcall("XADD", keys.events, "MAXLEN", "~", cap, "*", "event", "delayed", "jobId", id, "delay", due)
    markNextDelayed(keys.marker, keys.delayed)
  else
    if priority > 0 then
      addPrioritized(keys.prioritized, keys.pc, id, priority)
    else
      rcall(opts["lifo"] and "RPUSH" or "LPUSH", keys.wait, id)
    end
    markReady(keys.marker, isHeld(keys.meta, keys.active))
    rcall("XADD", keys.events, "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", id)
  end
end
