--- @include rcall
-- BullMQ keeps a job as a hash; anything else there is reported, not touched. Answers -1 when the key is gone,
-- -4 when it holds another type, nil for a hash.
local function notAJob(jobKey)
  local kind = rcall("TYPE", jobKey)["ok"]
  if kind == "none" then return -1 end
  if kind ~= "hash" then return -4 end
  return nil
end
