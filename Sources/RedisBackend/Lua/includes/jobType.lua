--- @include rcall
-- BullMQ keeps a job as a hash; anything else there is reported, not touched.
local function jobType(jobKey)
  return rcall("TYPE", jobKey)["ok"]
end
