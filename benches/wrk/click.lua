-- Clicks: `GET /c/{token}?sub1=bench`, the same link for every request, as a
-- publisher's link is. The server makes each click's id.
--
--   wrk -t2 -c64 -d8s -s click.lua http://127.0.0.1:PORT -- TOKEN
--
-- wrk counts an answer other than 2xx/3xx as an error; a click answers 302.

local report = require("report")
setup = report.setup
done = report.done

function init(args)
  wrk.path = "/c/" .. (args[1] or "x") .. "?sub1=bench"
end
