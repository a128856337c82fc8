-- Shared by the wrk scripts here: one line at the end for scripts/load-data.sh to parse:
--   RESULT rps=... p50_ms=... p99_ms=... requests=... non2xx=... socket_errors=...
function done(summary, latency, requests)
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
