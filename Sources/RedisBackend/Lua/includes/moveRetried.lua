--- @include rcall
--- @include addPrioritized
--- @include isLifo
--- @include addJobLog
-- Moves one retried job back to waiting, as BullMQ's reprocessJob does, given its priority, opts and parentKey
-- fields; `keys` are the queue's events, prioritized and pc keys. Ids for the wait list are collected in
-- `pushes.front` (LPUSH) and `pushes.back` (RPUSH, LIFO jobs): one push each per batch (`finishRetries`). Its
-- event is added uncapped: the batch trims the stream once.
local function moveRetried(keys, jobKey, id, priority, opts, parentKey, state, reset, logLine, pushes)
  local result = state == "failed" and "failedReason" or "returnvalue"
  if reset then
    rcall("HDEL", jobKey, "finishedOn", "processedOn", result, "atm", "ats")
  else
    rcall("HDEL", jobKey, "finishedOn", "processedOn", result)
  end
  priority = tonumber(priority) or 0
  if priority > 0 then
    addPrioritized(keys.prioritized, keys.pc, id, priority)
  elseif isLifo(opts) then
    pushes.back[#pushes.back + 1] = id
  else
    pushes.front[#pushes.front + 1] = id
  end
  -- A retried child counts again as a pending dependency of its parent.
  if parentKey and rcall("EXISTS", parentKey) == 1 then
    local done
    if state == "failed" then
      done = rcall("ZREM", parentKey .. ":unsuccessful", jobKey)
        + rcall("HDEL", parentKey .. ":failed", jobKey)
    else
      done = rcall("HDEL", parentKey .. ":processed", jobKey)
    end
    if done > 0 then rcall("SADD", parentKey .. ":dependencies", jobKey) end
  end
  rcall("XADD", keys.events, "*", "event", "waiting", "jobId", id, "prev", state)
  if logLine ~= "" then addJobLog(jobKey, logLine, opts) end
end
