-- wrk script: POSTs one JSON body with every request.
--
--   wrk ... -s scripts/lib/post.lua URL -- <path> <body file>
--
-- Prints the same RESULT line as ids.lua.
function init(args)
  local f = assert(io.open(args[2], "r"))
  wrk.path = args[1]
  wrk.method = "POST"
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
