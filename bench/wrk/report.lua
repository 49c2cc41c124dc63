-- Shared by the wrk scripts: one machine-readable line per run.
-- RESULT rps=<req/s> p50_ms=.. p99_ms=.. requests=.. bytes_per_req=.. errors=<socket errors + non-2xx/3xx>
--   status_errors=.. connect=.. read=.. write=.. timeout=.. (the socket errors by kind)
function done(summary, latency, requests)
  local e = summary.errors
  local errs = e.connect + e.read + e.write + e.timeout + e.status
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT rps=%.0f p50_ms=%.3f p99_ms=%.3f requests=%d bytes_per_req=%.0f errors=%d status_errors=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.bytes / math.max(summary.requests, 1), errs, e.status,
    e.connect, e.read, e.write, e.timeout))
end
