-- What the load benchmark's wrk scripts share: each thread's number, and one line
-- of figures when the run is done, which `benches/load.rs` reads.
--
-- Used by click.lua and postback.lua (`require "report"`; wrk runs with this
-- directory as its working directory).

local M = {}
local threads = {}

-- Called once per thread before it starts (in the main Lua state): number the
-- threads 0, 1, … so that each can take its own stripe of ids.
function M.setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

-- One line: `WRK key=value …`. Latencies in microseconds. `sent` is the number
-- of requests the script made (the largest over threads as `max_sent`), and
-- `accepted` the responses it counted as accepted (postbacks only).
function M.done(summary, latency, requests)
  local sent, max_sent, accepted = 0, 0, 0
  for _, t in ipairs(threads) do
    local s = t:get("sent") or 0
    sent = sent + s
    if s > max_sent then max_sent = s end
    accepted = accepted + (t:get("accepted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d "
      .. "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d status_errors=%d "
      .. "sent=%d max_sent=%d accepted=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status,
    sent, max_sent, accepted))
end

return M
