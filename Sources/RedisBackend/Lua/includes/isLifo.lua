local function isLifo(optsText)
  -- Decoding every job's options would cost more than the move itself: look for the name first.
  if not optsText or not string.find(optsText, '"lifo"', 1, true) then return false end
  local ok, opts = pcall(cjson.decode, optsText)
  return ok and type(opts) == "table" and opts["lifo"] == true
end
