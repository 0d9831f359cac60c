/// jobctl's Lua scripts: each changes one batch of jobs atomically, with the same keys, fields, markers and events
/// BullMQ's own scripts write (see the layout in shared/reference/bullmq-redis-layout.md). Written for jobctl; the
/// semantics follow BullMQ 6 as shipped in the pinned Python client.
///
/// The scripts have no `#!lua` line on purpose: like BullMQ's, they reach job keys through the queue's key prefix,
/// which Redis 7 allows only for scripts without one.
enum RedisScripts {
    /// Helpers shared by the scripts.
    private static let prelude = """
        local rcall = redis.call

        -- The events stream's length cap, stored in meta; BullMQ writes its default when it is missing.
        local function eventsCap(metaKey)
          local cap = rcall("HGET", metaKey, "opts.maxLenEvents")
          if not cap then
            cap = 10000
            rcall("HSET", metaKey, "opts.maxLenEvents", cap)
          end
          return cap
        end

        -- Workers take no jobs from a paused queue, nor from one at its global concurrency.
        local function isHeld(metaKey, activeKey)
          local settings = rcall("HMGET", metaKey, "paused", "concurrency")
          if settings[1] then return true end
          if settings[2] then return rcall("LLEN", activeKey) >= tonumber(settings[2]) end
          return false
        end

        -- The marker wakes idle workers: member "0" = a job is ready, "1" = the next delayed job is due then.
        local function markReady(markerKey, held)
          if not held then rcall("ZADD", markerKey, 0, "0") end
        end

        local function markNextDelayed(markerKey, delayedKey)
          local first = rcall("ZRANGE", delayedKey, 0, 0, "WITHSCORES")
          if first[2] then rcall("ZADD", markerKey, tonumber(first[2]) / 0x1000, "1") end
        end

        local function addPrioritized(prioritizedKey, counterKey, id, priority)
          local counter = rcall("INCR", counterKey)
          rcall("ZADD", prioritizedKey, priority * 0x100000000 + counter % 0x100000000, id)
        end

        -- BullMQ keeps a job as a hash; anything else there is reported, not touched.
        local function jobType(jobKey)
          return rcall("TYPE", jobKey)["ok"]
        end

        local function isLifo(optsText)
          if not optsText then return false end
          local ok, opts = pcall(cjson.decode, optsText)
          return ok and type(opts) == "table" and opts["lifo"] == true
        end

        -- "bull:q:7" -> "bull:q:", "7"
        local function splitJobKey(jobKey)
          local at = jobKey:match(".*():")
          if not at then return nil, nil end
          return jobKey:sub(1, at), jobKey:sub(at + 1)
        end

        local function deleteJobKeys(jobKey)
          return rcall("DEL", jobKey, jobKey .. ":logs", jobKey .. ":dependencies", jobKey .. ":processed",
            jobKey .. ":failed", jobKey .. ":unsuccessful")
        end

        -- A deduplication key that still points at the removed job is released.
        local function releaseDedup(queueBase, id, dedupId)
          if not dedupId then return end
          local dedupKey = queueBase .. "de:" .. dedupId
          if rcall("GET", dedupKey) == id then rcall("DEL", dedupKey, queueBase .. "dn:" .. dedupId) end
        end

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
              rcall("XADD", parentBase .. "events", "*", "event", "waiting", "jobId", parentId, "prev", "waiting-children")
            end
          end
        end

        -- Deletes a job that is no longer in any state list: its keys, its deduplication key, its parent link.
        local function deleteJob(queueBase, id, hard)
          local jobKey = queueBase .. id
          if jobType(jobKey) ~= "hash" then return rcall("DEL", jobKey) end
          local fields = rcall("HMGET", jobKey, "parentKey", "deid")
          detachFromParent(queueBase, jobKey, fields[1], hard)
          releaseDedup(queueBase, id, fields[2])
          return deleteJobKeys(jobKey)
        end

        """

    /// Retries failed or completed jobs, one reply per id: 1 moved, -1 no such job, -3 not in that state, -4 the
    /// job's key is not a hash.
    /// KEYS: events, state, wait, meta, active, marker, prioritized, pc. ARGV: queue base, state, reset ("1"/"0"),
    /// ids…
    static let retry = prelude + """
        local queueBase, state, reset = ARGV[1], ARGV[2], ARGV[3] == "1"
        local held = isHeld(KEYS[4], KEYS[5])
        local cap = eventsCap(KEYS[4])
        local resultField = state == "failed" and "failedReason" or "returnvalue"
        local replies, moved = {}, 0
        for i = 4, #ARGV do
          local id = ARGV[i]
          local jobKey = queueBase .. id
          local kind = jobType(jobKey)
          if kind == "none" then
            replies[#replies + 1] = -1
          elseif kind ~= "hash" then
            replies[#replies + 1] = -4
          elseif rcall("ZREM", KEYS[2], id) == 0 then
            replies[#replies + 1] = -3
          else
            if reset then
              rcall("HDEL", jobKey, "finishedOn", "processedOn", resultField, "atm", "ats")
            else
              rcall("HDEL", jobKey, "finishedOn", "processedOn", resultField)
            end
            local fields = rcall("HMGET", jobKey, "priority", "opts", "parentKey")
            local priority = tonumber(fields[1]) or 0
            if priority > 0 then
              addPrioritized(KEYS[7], KEYS[8], id, priority)
            else
              rcall(isLifo(fields[2]) and "RPUSH" or "LPUSH", KEYS[3], id)
            end
            -- A retried child counts again as a pending dependency of its parent.
            local parentKey = fields[3]
            if parentKey and rcall("EXISTS", parentKey) == 1 then
              local done
              if state == "failed" then
                done = rcall("ZREM", parentKey .. ":unsuccessful", jobKey) + rcall("HDEL", parentKey .. ":failed", jobKey)
              else
                done = rcall("HDEL", parentKey .. ":processed", jobKey)
              end
              if done > 0 then rcall("SADD", parentKey .. ":dependencies", jobKey) end
            end
            rcall("XADD", KEYS[1], "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", id, "prev", state)
            moved = moved + 1
            replies[#replies + 1] = 1
          end
        end
        if moved > 0 then markReady(KEYS[6], held) end
        return replies
        """

    /// Promotes delayed jobs, one reply per id: 1 moved, -1 no such job, -3 not delayed, -4 not a hash.
    /// KEYS: delayed, wait, meta, prioritized, active, pc, events, marker. ARGV: queue base, ids…
    static let promote = prelude + """
        local queueBase = ARGV[1]
        local held = isHeld(KEYS[3], KEYS[5])
        local replies, moved = {}, 0
        for i = 2, #ARGV do
          local id = ARGV[i]
          local jobKey = queueBase .. id
          local kind = jobType(jobKey)
          if kind ~= "hash" then
            replies[#replies + 1] = kind == "none" and -1 or -4
          elseif rcall("ZREM", KEYS[1], id) == 0 then
            replies[#replies + 1] = -3
          else
            local priority = tonumber(rcall("HGET", jobKey, "priority")) or 0
            if priority > 0 then
              addPrioritized(KEYS[4], KEYS[6], id, priority)
            else
              rcall("LPUSH", KEYS[2], id)
            end
            rcall("XADD", KEYS[7], "*", "event", "waiting", "jobId", id, "prev", "delayed")
            rcall("HSET", jobKey, "delay", 0)
            moved = moved + 1
            replies[#replies + 1] = 1
          end
        end
        if moved > 0 then markReady(KEYS[8], held) end
        return replies
        """

    /// Deletes up to `limit` jobs of one ready state, the oldest first, leaving the scheduled next job of each
    /// job scheduler. Replies {removed, kept}.
    /// KEYS: the state's list or sorted set, repeat. ARGV: queue base, "list"/"zset", limit, jobs to skip.
    static let drain = prelude + """
        local queueBase, kind, limit, skip = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
        local scheduled = {}
        local schedulers = rcall("ZRANGE", KEYS[2], 0, -1, "WITHSCORES")
        for i = 1, #schedulers, 2 do scheduled["repeat:" .. schedulers[i] .. ":" .. schedulers[i + 1]] = true end
        local removed, kept, gone = 0, 0, {}
        if kind == "list" then
          -- Workers take from the right end, so the oldest jobs are there.
          local ids = rcall("LRANGE", KEYS[1], -(skip + limit), -(skip + 1))
          for i = #ids, 1, -1 do
            local id = ids[i]
            if scheduled[id] then
              kept = kept + 1
            else
              rcall("LSET", KEYS[1], i - 1 - #ids - skip, "")
              deleteJob(queueBase, id, true)
              removed = removed + 1
            end
          end
          if removed > 0 then rcall("LREM", KEYS[1], -removed, "") end
        else
          local ids = rcall("ZRANGE", KEYS[1], skip, skip + limit - 1)
          for _, id in ipairs(ids) do
            if scheduled[id] then
              kept = kept + 1
            else
              deleteJob(queueBase, id, true)
              gone[#gone + 1] = id
            end
          end
          if #gone > 0 then rcall("ZREM", KEYS[1], unpack(gone)) end
          removed = #gone
        end
        return {removed, kept}
        """

    /// Deletes up to `limit` finished jobs whose finish time (their score) is at or before a time; replies with
    /// their ids.
    /// KEYS: completed or failed, events. ARGV: queue base, time (ms), limit.
    static let clean = prelude + """
        local queueBase = ARGV[1]
        local ids = rcall("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[2], "LIMIT", 0, tonumber(ARGV[3]))
        for _, id in ipairs(ids) do deleteJob(queueBase, id, true) end
        if #ids > 0 then rcall("ZREM", KEYS[1], unpack(ids)) end
        rcall("XADD", KEYS[2], "*", "event", "cleaned", "count", #ids)
        return ids
        """

    /// Pauses ("paused") or resumes ("resumed") a queue. Resuming moves up to 7000 jobs of a legacy paused list
    /// (BullMQ 5) back to wait per call and replies how many are left there.
    /// KEYS: wait, paused, meta, prioritized, events, delayed, marker. ARGV: "paused" or "resumed".
    static let pause = prelude + """
        local left = 0
        if ARGV[1] == "paused" then
          rcall("HSET", KEYS[3], "paused", 1)
          rcall("DEL", KEYS[7])
        else
          rcall("HDEL", KEYS[3], "paused")
          if rcall("EXISTS", KEYS[2]) == 1 then
            if rcall("EXISTS", KEYS[1]) == 0 then
              rcall("RENAME", KEYS[2], KEYS[1])
            else
              local ids = rcall("LRANGE", KEYS[2], 0, 6999)
              rcall("RPUSH", KEYS[1], unpack(ids))
              rcall("LTRIM", KEYS[2], #ids, -1)
              left = rcall("LLEN", KEYS[2])
            end
          end
          if rcall("LLEN", KEYS[1]) + rcall("ZCARD", KEYS[4]) > 0 then
            rcall("ZADD", KEYS[7], 0, "0")
          else
            markNextDelayed(KEYS[7], KEYS[6])
          end
        end
        rcall("XADD", KEYS[5], "*", "event", ARGV[1])
        return left
        """

    /// Removes jobs with their children, one reply per id: 1 removed, -1 no such job, 0 locked (the job or a
    /// pending child; only without force), -8 the next job of a job scheduler, -4 not a hash.
    /// KEYS: repeat, events, meta. ARGV: queue base, force ("1"/"0"), ids…
    static let remove = prelude + """
        local queueBase, force = ARGV[1], ARGV[2] == "1"

        local function children(jobKey)
          local keys = rcall("HKEYS", jobKey .. ":processed")
          for _, key in ipairs(rcall("HKEYS", jobKey .. ":failed")) do keys[#keys + 1] = key end
          for _, key in ipairs(rcall("ZRANGE", jobKey .. ":unsuccessful", 0, -1)) do keys[#keys + 1] = key end
          for _, key in ipairs(rcall("SMEMBERS", jobKey .. ":dependencies")) do keys[#keys + 1] = key end
          return keys
        end

        local function isLocked(jobKey)
          if rcall("EXISTS", jobKey .. ":lock") == 1 then return true end
          for _, childKey in ipairs(rcall("SMEMBERS", jobKey .. ":dependencies")) do
            if isLocked(childKey) then return true end
          end
          return false
        end

        local function leaveStates(base, id)
          for _, state in ipairs({"completed", "waiting-children", "delayed", "failed", "prioritized"}) do
            if rcall("ZREM", base .. state, id) == 1 then return state end
          end
          for _, state in ipairs({"wait", "paused", "active"}) do
            if rcall("LREM", base .. state, 1, id) == 1 then return state end
          end
          return "unknown"
        end

        local function removeTree(base, id, removedParentKey)
          local jobKey = base .. id
          local fields = rcall("HMGET", jobKey, "parentKey", "deid")
          if fields[1] and fields[1] ~= removedParentKey then detachFromParent(base, jobKey, fields[1], false) end
          for _, childKey in ipairs(children(jobKey)) do
            local childBase, childId = splitJobKey(childKey)
            if childBase and rcall("EXISTS", childKey) == 1 then removeTree(childBase, childId, jobKey) end
          end
          local prev = leaveStates(base, id)
          releaseDedup(base, id, fields[2])
          if force then rcall("DEL", jobKey .. ":lock") end
          if deleteJobKeys(jobKey) > 0 then
            rcall("XADD", base .. "events", "MAXLEN", "~", eventsCap(base .. "meta"), "*", "event", "removed",
              "jobId", id, "prev", prev)
          end
        end

        local replies = {}
        for i = 3, #ARGV do
          local id = ARGV[i]
          local jobKey = queueBase .. id
          local kind = jobType(jobKey)
          local schedulerKey = kind == "hash" and rcall("HGET", jobKey, "rjk")
          local schedulerNext = schedulerKey and rcall("ZSCORE", KEYS[1], schedulerKey)
          if kind == "none" then
            replies[#replies + 1] = -1
          elseif kind ~= "hash" then
            replies[#replies + 1] = -4
          elseif schedulerNext and id == "repeat:" .. schedulerKey .. ":" .. schedulerNext then
            replies[#replies + 1] = -8
          elseif not force and isLocked(jobKey) then
            replies[#replies + 1] = 0
          else
            removeTree(queueBase, id, nil)
            replies[#replies + 1] = 1
          end
        end
        return replies
        """

    /// Adds jobs in order; replies {id, 1 if a job with that id already existed (nothing added) else 0} each.
    /// KEYS: wait, meta, id, delayed, prioritized, active, events, marker, pc.
    /// ARGV: queue base, then per job: custom id or "", name, data, opts, timestamp, delay, priority, lifo ("1"/"0").
    static let add = prelude + """
        local queueBase = ARGV[1]
        local cap = eventsCap(KEYS[2])
        local held = isHeld(KEYS[2], KEYS[6])
        local replies = {}
        for i = 2, #ARGV, 8 do
          local name, timestamp = ARGV[i + 1], tonumber(ARGV[i + 4])
          local delay, priority = tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6])
          -- BullMQ counts every add, custom ids included.
          local counter = rcall("INCR", KEYS[3])
          local id = ARGV[i] ~= "" and ARGV[i] or tostring(counter)
          local jobKey = queueBase .. id
          if rcall("EXISTS", jobKey) == 1 then
            rcall("XADD", KEYS[7], "MAXLEN", "~", cap, "*", "event", "duplicated", "jobId", id)
            replies[#replies + 1] = {id, 1}
          else
            rcall("HSET", jobKey, "name", name, "data", ARGV[i + 2], "opts", ARGV[i + 3], "timestamp", ARGV[i + 4],
              "delay", delay, "priority", priority)
            rcall("XADD", KEYS[7], "*", "event", "added", "jobId", id, "name", name)
            if delay > 0 then
              -- Score: due time * 4096 plus a tie counter, so that jobs due in the same ms keep their order.
              local due = timestamp + delay
              local low, high = due * 0x1000, (due + 1) * 0x1000 - 1
              local score = low
              local last = rcall("ZREVRANGEBYSCORE", KEYS[4], high, low, "WITHSCORES", "LIMIT", 0, 1)
              if last[2] then score = math.min(tonumber(last[2]) + 1, high) end
              rcall("ZADD", KEYS[4], score, id)
              rcall("XADD", KEYS[7], "MAXLEN", "~", cap, "*", "event", "delayed", "jobId", id, "delay", due)
              markNextDelayed(KEYS[8], KEYS[4])
            else
              if priority > 0 then
                addPrioritized(KEYS[5], KEYS[9], id, priority)
              else
                rcall(ARGV[i + 7] == "1" and "RPUSH" or "LPUSH", KEYS[1], id)
              end
              markReady(KEYS[8], held)
              rcall("XADD", KEYS[7], "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", id)
            end
            replies[#replies + 1] = {id, 0}
          end
        end
        return replies
        """

    // MARK: The worker path

    /// Claims up to one job per token, as BullMQ's moveToActive does for each: due delayed jobs are promoted first;
    /// before every claim the rate limit, the pause and the global concurrency are checked; each job gets its
    /// lock, `processedOn`, an `ats` increment and an `active` event. Replies {jobs, wait}: jobs as {id, token,
    /// name, data, opts, atm, attemptsMade, timestamp, defa, stacktrace, rjk}; wait (when fewer jobs than tokens) is
    /// {"limited", ms}, {"paused"}, {"maxed"} or {"empty", next delayed due time or 0}.
    /// KEYS: wait, active, prioritized, events, limiter, delayed, meta, pc, marker.
    /// ARGV: queue base, now, lock ms, limiter max or "", limiter duration or "", tokens…
    static let claim = prelude + """
        local base, now, lockMs = ARGV[1], tonumber(ARGV[2]), ARGV[3]
        local settings = rcall("HMGET", KEYS[7], "paused", "concurrency", "max", "duration")

        local due = rcall("ZRANGEBYSCORE", KEYS[6], 0, (now + 1) * 0x1000 - 1, "LIMIT", 0, 1000)
        if #due > 0 then
          rcall("ZREM", KEYS[6], unpack(due))
          for _, id in ipairs(due) do
            local priority = tonumber(rcall("HGET", base .. id, "priority")) or 0
            if priority > 0 then addPrioritized(KEYS[3], KEYS[8], id, priority) else rcall("LPUSH", KEYS[1], id) end
            rcall("XADD", KEYS[4], "*", "event", "waiting", "jobId", id, "prev", "delayed")
            rcall("HSET", base .. id, "delay", 0)
          end
          markReady(KEYS[9], isHeld(KEYS[7], KEYS[2]))
        end

        -- The queue's limit wins over the worker's for the count; the worker's duration over the queue's.
        local maxJobs = tonumber(settings[3] or ARGV[4])
        local duration = tonumber(ARGV[5]) or tonumber(settings[4])
        local jobs, wait = {}, nil
        for i = 6, #ARGV do
          if maxJobs then
            local used = tonumber(rcall("GET", KEYS[5]) or "0") or 0
            if used >= maxJobs then
              local ttl = rcall("PTTL", KEYS[5])
              if ttl == 0 then
                rcall("DEL", KEYS[5])
              elseif ttl > 0 then
                wait = {"limited", ttl}
                break
              end
            end
          end
          if settings[1] then
            wait = {"paused"}
            break
          end
          if settings[2] and rcall("LLEN", KEYS[2]) >= (tonumber(settings[2]) or 0) then
            wait = {"maxed"}
            break
          end
          local id = rcall("RPOPLPUSH", KEYS[1], KEYS[2])
          while id and string.sub(id, 1, 2) == "0:" do
            rcall("LREM", KEYS[2], 1, id)
            id = rcall("RPOPLPUSH", KEYS[1], KEYS[2])
          end
          if not id then
            local popped = rcall("ZPOPMIN", KEYS[3])
            if popped[1] then
              id = popped[1]
              rcall("LPUSH", KEYS[2], id)
            else
              rcall("DEL", KEYS[8])
            end
          end
          if not id then
            local first = rcall("ZRANGE", KEYS[6], 0, 0, "WITHSCORES")
            wait = {"empty", first[2] and math.floor(tonumber(first[2]) / 0x1000) or 0}
            break
          end
          local jobKey = base .. id
          if maxJobs and duration and rcall("HEXISTS", jobKey, "defa") == 0 then
            if rcall("INCR", KEYS[5]) == 1 then rcall("PEXPIRE", KEYS[5], math.floor(math.abs(duration))) end
          end
          rcall("SET", jobKey .. ":lock", ARGV[i], "PX", lockMs)
          rcall("XADD", KEYS[4], "*", "event", "active", "jobId", id, "prev", "waiting")
          rcall("HSET", jobKey, "processedOn", now)
          rcall("HINCRBY", jobKey, "ats", 1)
          local fields = rcall("HMGET", jobKey, "name", "data", "opts", "atm", "attemptsMade", "timestamp", "defa", "stacktrace",
            "rjk")
          local job = {id, ARGV[i]}
          for f = 1, 9 do job[f + 2] = fields[f] or "" end
          jobs[#jobs + 1] = job
        end
        -- As BullMQ after every claim: the next idle worker looks too.
        if #jobs > 0 then rcall("ZADD", KEYS[9], 0, "0") end
        return {jobs, wait or {}}
        """

    /// Finishes jobs as BullMQ's moveToFinished, retryJob and moveToDelayed do, one reply per job: 0 done, -1 no
    /// such job, -2 its lock is gone, -6 another worker holds it, -3 not active.
    /// KEYS: wait, active, prioritized, events, stalled, meta, pc, marker, delayed, completed, failed,
    /// metrics:completed, metrics:completed:data, metrics:failed, metrics:failed:data.
    /// ARGV: queue base, now, metrics data points or "" (none), then per job: id, token, kind ("complete", "fail",
    /// "retry", "delay"), return value or
    /// failure reason, stack traces (JSON) or "", attempts, keep count (-1 all, 0 none) , keep age (s) or "",
    /// lifo ("1"/"0") or delay (ms).
    static let finish = prelude + """
        local base, now, maxPoints = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
        local cap = eventsCap(KEYS[6])
        local replies = {}
        local finished = false

        -- BullMQ's per-minute metrics: a running count, and one data point per minute passed (zeros for idle ones).
        local function countInMetrics(countKey, pointsKey)
          local count = rcall("HINCRBY", countKey, "count", 1) - 1
          local previous = rcall("HGET", countKey, "prevTS")
          if not previous then
            rcall("HSET", countKey, "prevTS", now, "prevCount", 0)
            return
          end
          local minutes = math.min(math.floor(now / 60000) - math.floor(previous / 60000), maxPoints)
          if minutes > 0 then
            rcall("LPUSH", pointsKey, count - (tonumber(rcall("HGET", countKey, "prevCount")) or 0))
            for _ = 2, minutes do rcall("LPUSH", pointsKey, 0) end
            rcall("LTRIM", pointsKey, 0, maxPoints - 1)
            rcall("HSET", countKey, "prevCount", count, "prevTS", now)
          end
        end

        -- A parent goes on as BullMQ's moveParentToWait moves it: delayed if it has a delay, prioritized if it has
        -- a priority, else to the end of wait.
        local function moveParentToWait(parentBase, parentId)
          local fields = rcall("HMGET", parentBase .. parentId, "priority", "delay")
          local priority, delay = tonumber(fields[1]) or 0, tonumber(fields[2]) or 0
          if delay > 0 then
            rcall("ZADD", parentBase .. "delayed", (now + delay) * 0x1000, parentId)
            rcall("XADD", parentBase .. "events", "*", "event", "delayed", "jobId", parentId, "delay", now + delay)
            markNextDelayed(parentBase .. "marker", parentBase .. "delayed")
            return
          end
          local held = isHeld(parentBase .. "meta", parentBase .. "active")
          if priority > 0 then
            addPrioritized(parentBase .. "prioritized", parentBase .. "pc", parentId, priority)
          else
            rcall("RPUSH", parentBase .. "wait", parentId)
          end
          markReady(parentBase .. "marker", held)
          rcall("XADD", parentBase .. "events", "*", "event", "waiting", "jobId", parentId, "prev", "waiting-children")
        end

        -- A parent none of whose children is pending any more leaves waiting-children.
        local function releaseParent(parentKey)
          local parentBase, parentId = splitJobKey(parentKey)
          if parentBase and rcall("ZREM", parentBase .. "waiting-children", parentId) == 1 then
            moveParentToWait(parentBase, parentId)
          end
        end

        -- A flow child failed for good: what its parent does follows the child's options (BullMQ's
        -- moveChildFromDependenciesIfNeeded). failParentOnFailure: the parent runs now and fails at once (its
        -- deferred failure names the child); continueParentOnFailure: it runs now; ignoreDependencyOnFailure and
        -- removeDependencyOnFailure: it runs once no other child is pending. Without any of them it keeps waiting.
        local function childFailed(parentText, childKey, reason)
          local ok, parent = pcall(cjson.decode, parentText or "")
          if not ok or type(parent) ~= "table" or not parent["queueKey"] or not parent["id"] then return end
          local parentBase, parentId = parent["queueKey"] .. ":", tostring(parent["id"])
          local parentKey = parentBase .. parentId
          if rcall("EXISTS", parentKey) == 0 then return end
          local dependencies = parentKey .. ":dependencies"
          if parent["fpof"] then
            if rcall("SREM", dependencies, childKey) == 0 then return end
            rcall("ZADD", parentKey .. ":unsuccessful", now, childKey)
            local deferred = "child " .. childKey .. " failed"
            local waited = rcall("ZREM", parentBase .. "waiting-children", parentId) == 1
            if not waited and rcall("ZREM", parentBase .. "delayed", parentId) == 1 then
              waited = true
              rcall("HSET", parentKey, "delay", 0)
            end
            if waited then
              rcall("HSET", parentKey, "defa", deferred)
              moveParentToWait(parentBase, parentId)
            elseif not rcall("ZSCORE", parentBase .. "failed", parentId) then
              rcall("HSET", parentKey, "defa", deferred)
            end
          elseif parent["cpof"] then
            if rcall("SREM", dependencies, childKey) == 0 then return end
            rcall("HSET", parentKey .. ":failed", childKey, reason)
            releaseParent(parentKey)
          elseif parent["idof"] or parent["rdof"] then
            if rcall("SREM", dependencies, childKey) == 0 then return end
            if rcall("SCARD", dependencies) == 0 then releaseParent(parentKey) end
            if parent["idof"] then rcall("HSET", parentKey .. ":failed", childKey, reason) end
          end
        end

        local function prune(target, keepCount, keepAge)
          local gone = {}
          if keepAge then
            gone = rcall("ZRANGEBYSCORE", target, 0, now - keepAge * 1000, "LIMIT", 0, 1000)
          end
          if keepCount and keepCount > 0 then
            for _, id in ipairs(rcall("ZRANGE", target, 0, -(keepCount + 1))) do gone[#gone + 1] = id end
          end
          for _, id in ipairs(gone) do
            deleteJobKeys(base .. id)
            rcall("ZREM", target, id)
          end
        end

        for i = 4, #ARGV, 9 do
          local id, token, kind, text, stack = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
          local jobKey = base .. id
          local lock = rcall("GET", jobKey .. ":lock")
          if rcall("EXISTS", jobKey) == 0 then
            replies[#replies + 1] = -1
          elseif lock ~= token then
            replies[#replies + 1] = lock and -6 or -2
          else
            rcall("DEL", jobKey .. ":lock")
            rcall("SREM", KEYS[5], id)
            if kind ~= "complete" then
              if stack ~= "" then
                rcall("HSET", jobKey, "failedReason", text, "stacktrace", stack)
              else
                rcall("HSET", jobKey, "failedReason", text)
              end
            end
            if rcall("LREM", KEYS[2], -1, id) == 0 then
              replies[#replies + 1] = -3
            else
              local attemptsMade = rcall("HINCRBY", jobKey, "atm", 1)
              if kind == "retry" then
                local held = isHeld(KEYS[6], KEYS[2])
                local priority = tonumber(rcall("HGET", jobKey, "priority")) or 0
                if priority > 0 then
                  addPrioritized(KEYS[3], KEYS[7], id, priority)
                else
                  rcall(ARGV[i + 8] == "1" and "RPUSH" or "LPUSH", KEYS[1], id)
                end
                markReady(KEYS[8], held)
                rcall("XADD", KEYS[4], "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", id, "prev", "active")
              elseif kind == "delay" then
                local due = now + tonumber(ARGV[i + 8])
                local low, high = due * 0x1000, (due + 1) * 0x1000 - 1
                local score = low
                local last = rcall("ZREVRANGEBYSCORE", KEYS[9], high, low, "WITHSCORES", "LIMIT", 0, 1)
                if last[2] then score = math.min(tonumber(last[2]) + 1, high) end
                rcall("HSET", jobKey, "delay", ARGV[i + 8])
                rcall("ZADD", KEYS[9], score, id)
                rcall("XADD", KEYS[4], "MAXLEN", "~", cap, "*", "event", "delayed", "jobId", id, "delay", due)
                markNextDelayed(KEYS[8], KEYS[9])
              else
                local target = kind == "complete" and KEYS[10] or KEYS[11]
                local field = kind == "complete" and "returnvalue" or "failedReason"
                local keepCount = tonumber(ARGV[i + 6])
                local fields = rcall("HMGET", jobKey, "parentKey", "deid", "parent")
                releaseDedup(base, id, fields[2])
                local parentKey = fields[1]
                if kind == "complete" and parentKey and rcall("EXISTS", parentKey) == 1 then
                  -- A flow child done: its parent counts it processed, and runs once none is pending.
                  if rcall("SREM", parentKey .. ":dependencies", jobKey) == 1 then
                    rcall("HSET", parentKey .. ":processed", jobKey, text)
                    if rcall("SCARD", parentKey .. ":dependencies") == 0 then releaseParent(parentKey) end
                  end
                elseif kind == "fail" and parentKey then
                  childFailed(fields[3], jobKey, text)
                end
                if keepCount == 0 then
                  -- A failed child removed at once no longer holds its parent back (BullMQ's removeParentDependencyKey).
                  if kind == "fail" then detachFromParent(base, jobKey, parentKey, false) end
                  deleteJobKeys(jobKey)
                else
                  rcall("ZADD", target, now, id)
                  rcall("HSET", jobKey, field, text, "finishedOn", now)
                  if kind == "fail" then rcall("HDEL", jobKey, "defa") end
                  prune(target, keepCount, tonumber(ARGV[i + 7]))
                end
                rcall("XADD", KEYS[4], "*", "event", kind == "complete" and "completed" or "failed", "jobId", id, field, text,
                  "prev", "active")
                if kind == "fail" and attemptsMade >= (tonumber(ARGV[i + 5]) or 0) then
                  rcall("XADD", KEYS[4], "*", "event", "retries-exhausted", "jobId", id, "attemptsMade", attemptsMade)
                end
                if maxPoints then
                  if kind == "complete" then countInMetrics(KEYS[12], KEYS[13]) else countInMetrics(KEYS[14], KEYS[15]) end
                end
                finished = true
              end
              replies[#replies + 1] = 0
            end
          end
        end
        if finished then
          rcall("XTRIM", KEYS[4], "MAXLEN", "~", cap)
          if rcall("LLEN", KEYS[1]) + rcall("LLEN", KEYS[2]) + rcall("ZCARD", KEYS[3]) == 0 then
            rcall("XADD", KEYS[4], "*", "event", "drained")
          end
        end
        return replies
        """

    /// Renews locks still held with the given token; replies with the ids whose lock was not.
    /// KEYS: stalled. ARGV: queue base, lock ms, then id and token per job.
    static let extendLocks = """
        local failed = {}
        for i = 3, #ARGV, 2 do
          local lockKey = ARGV[1] .. ARGV[i] .. ":lock"
          if redis.call("GET", lockKey) == ARGV[i + 1] then
            redis.call("SET", lockKey, ARGV[i + 1], "PX", ARGV[2])
            redis.call("SREM", KEYS[1], ARGV[i])
          else
            failed[#failed + 1] = ARGV[i]
          end
        end
        return failed
        """

    /// BullMQ's stalled check, at most once per interval across all workers (the `stalled-check` key): active
    /// jobs seen on the previous check whose lock is gone go back to the front of wait (a job stalled more often
    /// than allowed gets `defa` and fails on its next claim); then every active job is noted for the next check.
    /// KEYS: stalled, wait, active, stalled-check, meta, marker, events. ARGV: max stalled count, queue base, now,
    /// interval (ms).
    static let rescueStalled = prelude + """
        if rcall("EXISTS", KEYS[4]) == 1 then return {} end
        rcall("SET", KEYS[4], ARGV[3], "PX", ARGV[4])
        rcall("XTRIM", KEYS[7], "MAXLEN", "~", eventsCap(KEYS[5]))
        local moved = {}
        local suspects = rcall("SMEMBERS", KEYS[1])
        if #suspects > 0 then
          rcall("DEL", KEYS[1])
          for _, id in ipairs(suspects) do
            if string.sub(id, 1, 2) == "0:" then
              rcall("LREM", KEYS[3], 1, id)
            else
              local jobKey = ARGV[2] .. id
              if rcall("EXISTS", jobKey .. ":lock") == 0 and rcall("LREM", KEYS[3], 1, id) > 0 then
                if rcall("HINCRBY", jobKey, "stc", 1) > tonumber(ARGV[1]) then
                  rcall("HSET", jobKey, "defa", "job stalled more than allowable limit")
                end
                rcall("RPUSH", KEYS[2], id)
                markReady(KEYS[6], isHeld(KEYS[5], KEYS[3]))
                rcall("XADD", KEYS[7], "*", "event", "waiting", "jobId", id, "prev", "active")
                rcall("XADD", KEYS[7], "*", "event", "stalled", "jobId", id)
                moved[#moved + 1] = id
              end
            end
          end
        end
        local active = rcall("LRANGE", KEYS[3], 0, -1)
        for i = 1, #active, 5000 do
          rcall("SADD", KEYS[1], unpack(active, i, math.min(i + 4999, #active)))
        end
        return moved
        """

    /// Hands jobs a stopping worker holds back to the front of wait (or of their priority), as BullMQ's
    /// moveJobFromActiveToWait does; jobs whose lock is no longer this worker's are left alone.
    /// KEYS: wait, active, prioritized, events, stalled, meta, marker. ARGV: queue base, then id and token per job.
    static let handBack = prelude + """
        local cap = eventsCap(KEYS[6])
        local moved = 0
        for i = 2, #ARGV, 2 do
          local id, jobKey = ARGV[i], ARGV[1] .. ARGV[i]
          if rcall("GET", jobKey .. ":lock") == ARGV[i + 1] and rcall("LREM", KEYS[2], 1, id) > 0 then
            rcall("DEL", jobKey .. ":lock")
            rcall("SREM", KEYS[5], id)
            local priority = tonumber(rcall("HGET", jobKey, "priority")) or 0
            if priority > 0 then
              rcall("ZADD", KEYS[3], priority * 0x100000000, id)
            else
              rcall("RPUSH", KEYS[1], id)
            end
            rcall("XADD", KEYS[4], "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", id, "prev", "active")
            moved = moved + 1
          end
        end
        if moved > 0 then markReady(KEYS[7], isHeld(KEYS[6], KEYS[2])) end
        return moved
        """
}
