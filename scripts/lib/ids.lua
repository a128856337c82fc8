-- wrk script: each request GETs a path with "{id}" replaced by a random line of a file
-- of ids (a different seed per thread), so reads spread over the data set as the
-- floor's random integer ids do.
--
--   wrk ... -s scripts/lib/ids.lua URL -- <path with {id}> <ids file>
--
-- Prints one line at the end for scripts/load-data.sh to parse:
--   RESULT rps=... p50_ms=... p99_ms=... requests=... non2xx=... socket_errors=...
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  local path, file = args[1], args[2]
  local ids = {}
  for line in io.lines(file) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  local a, b = string.find(path, "{id}", 1, true)
  local prefix, suffix = string.sub(path, 1, a - 1), string.sub(path, b + 1)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  for _ = 1, 10 do math.random() end
  request = function()
    return wrk.format("GET", prefix .. ids[math.random(1, #ids)] .. suffix)
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
