-- (d)/(e): GET of the URL given to wrk, repeated; with an argument, sent as If-None-Match.
dofile("bench/wrk/report.lua")
function init(args)
  if args[1] then wrk.headers["If-None-Match"] = args[1] end
end
