-- Adds one command's record to the queue's events stream as event "jobctl" (a name BullMQ does not use), capped
-- as BullMQ caps the stream; replies the entry's id.
--- @keys events meta
--- @argv fields...
-- fields: name, value pairs after the event's name.
--- @include rcall
--- @include eventsCap

local cap = eventsCap(KEYS[2])
return rcall("XADD", KEYS[1], "MAXLEN", "~", cap, "*", "event", "jobctl", unpack(ARGV))
