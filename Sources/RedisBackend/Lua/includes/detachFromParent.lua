--- @include rcall
--- @include isHeld
--- @include markReady
--- @include splitJobKey
--- @include deleteJobKeys
--- @include releaseDedup
-- Unlinks a removed job from its parent. When that was the parent's last pending child and the parent is
-- waiting for children, the parent is deleted too if `hard` and it lives in the same queue (as BullMQ's
-- drain and clean do); otherwise it moves to wait.
local function detachFromParent(queueBase, jobKey, parentKey, hard)
  if not parentKey or rcall("EXISTS", parentKey) == 0 then return end
  if rcall("SREM", parentKey .. ":dependencies", jobKey) == 0 then return end
  if rcall("SCARD", parentKey .. ":dependencies") > 0 then return end
  local parentBase, parentId = splitJobKey(parentKey)
  if not parentBase or rcall("ZREM", parentBase .. "waiting-children", parentId) == 0 then return end
  if hard and parentBase == queueBase then
    local fields = rcall("HMGET", parentKey, "parentKey", "deid")
    detachFromParent(queueBase, parentKey, fields[1], hard)
    releaseDedup(queueBase, parentId, fields[2])
    deleteJobKeys(parentKey)
  else
    rcall("RPUSH", parentBase .. "wait", parentId)
    markReady(parentBase .. "marker", isHeld(parentBase .. "meta", parentBase .. "active"))
    if not hard then
      rcall("XADD", parentBase .. "events", "*", "event", "waiting", "jobId", parentId,
        "prev", "waiting-children")
    end
  end
end
