local function isLifo(optsText)
  if not optsText then return false end
  local ok, opts = pcall(cjson.decode, optsText)
  return ok and type(opts) == "table" and opts["lifo"] == true
end
