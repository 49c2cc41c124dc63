-- (c): POST /render with one identical body, repeated. Argument: the format.
dofile("bench/wrk/report.lua")
function init(args)
  local format = args[1] or "yaml"
  wrk.method = "POST"
  wrk.path = "/render?format=" .. format
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"stack":"msa-shop","environment":"prod","overrides":{"image":{"tag":"1.4.3"}}}'
end
