--- @include rcall
-- A line in the job's log, as BullMQ's Job.log writes it: kept to the job's keepLogs (`kl`) newest lines.
local function addJobLog(jobKey, line, opts)
  local count = rcall("RPUSH", jobKey .. ":logs", line)
  if opts and string.find(opts, '"kl"', 1, true) then
    local ok, decoded = pcall(cjson.decode, opts)
    local keep = ok and type(decoded) == "table" and tonumber(decoded["kl"])
    if keep and keep > 0 and count > keep then rcall("LTRIM", jobKey .. ":logs", -keep, -1) end
  end
end
