-- "bull:q:7" -> "bull:q:", "7"
local function splitJobKey(jobKey)
  local at = jobKey:match(".*():")
  if not at then return nil, nil end
  return jobKey:sub(1, at), jobKey:sub(at + 1)
end
