-- Postbacks: `GET /postback?token=…&email=…&click_id=…`, each request converting
-- a different stored click.
--
--   wrk -t2 -c64 -d8s -s postback.lua http://127.0.0.1:PORT -- TOKEN IDS_FILE OFFSET THREADS
--
-- IDS_FILE holds one click id a line. Thread t of THREADS sends ids OFFSET + t,
-- OFFSET + t + THREADS, …, so no two requests of a run share a click; the next
-- run starts at OFFSET + THREADS * (max_sent + 1), past every id this one used
-- (including requests still in flight when wrk stopped). Past the end of the
-- file the ids start again (those postbacks are duplicates, not accepted).
-- A response counts as accepted when it is a 200 whose body says "accepted".

local report = require("report")
setup = report.setup
done = report.done

local ids = {}
local base, offset, step
sent, accepted = 0, 0

function init(args)
  base = "/postback?token=" .. (args[1] or "x") .. "&email=bench%40example.org&click_id="
  for line in io.lines(args[2]) do
    ids[#ids + 1] = line
  end
  offset = tonumber(args[3] or "0")
  step = tonumber(args[4] or "1")
end

function request()
  local i = offset + id + sent * step
  sent = sent + 1
  return wrk.format(nil, base .. ids[(i % #ids) + 1])
end

function response(status, headers, body)
  if status == 200 and body and body:find('"accepted"', 1, true) then
    accepted = accepted + 1
  end
end
