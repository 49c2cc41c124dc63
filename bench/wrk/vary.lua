-- (a)/(b): POST /render of msa-shop/prod where every request differs (the image tag is a
-- counter, per thread and run), so no cache can answer. Arguments: the format (yaml, zip)
-- and a run id.
dofile("bench/wrk/report.lua")
local format = "yaml"
local n = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local run = "0"
function init(args)
  format = args[1] or "yaml"
  run = args[2] or "0" -- makes tags unique across runs against the same server
end
function request()
  n = n + 1
  local body = '{"stack":"msa-shop","environment":"prod","overrides":{"image":{"tag":"' .. run .. '.' .. tid .. '.' .. n .. '"}}}'
  return wrk.format("POST", "/render?format=" .. format, {["Content-Type"] = "application/json"}, body)
end
