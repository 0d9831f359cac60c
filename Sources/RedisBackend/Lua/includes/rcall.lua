-- The shorthand every script uses for redis.call.
local rcall = redis.call
