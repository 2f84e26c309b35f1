-- Clicks: `GET /c/{token}?sub1=bench`, the same link for every request, as a
-- publisher's link is. The server makes each click's id.
--
--   wrk -t2 -c64 -d8s -s click.lua http://127.0.0.1:PORT -- TOKEN
--
-- Each request comes from another visitor as a CDN or proxy in front of the
-- server would pass it on: a public address in `X-Forwarded-For` (the loopback
-- peer is a trusted proxy, so the server locates it in the country database) and
-- one of a handful of real browsers' `User-Agent`s (the server reads its device
-- and OS). The bare server gets the same requests. With
-- QUALEAD_BENCH_COUNTRY_HEADER set, each request also carries a `CF-IPCountry`
-- header (one of 40 countries) as a CDN would send it: the server then takes the
-- country from the header and skips the database (a build without geolocation
-- gets the same spread of countries, and so the same rollup rows, that way).
--
-- wrk counts an answer other than 2xx/3xx as an error; a click answers 302.

local report = require("report")
setup = report.setup
done = report.done

local agents = {
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
  "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
  "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
}

local countries = {
  "US", "GB", "DE", "FR", "RU", "UA", "KZ", "BY", "PL", "IT", "ES", "NL", "SE", "NO", "FI", "CA", "AU", "NZ", "BR", "MX",
  "AR", "IN", "ID", "VN", "TH", "JP", "KR", "CN", "TR", "EG", "NG", "ZA", "KE", "SA", "AE", "IL", "CZ", "RO", "PT", "IE",
}
local with_country = os.getenv("QUALEAD_BENCH_COUNTRY_HEADER") ~= nil

local path = "/c/x?sub1=bench"
local n = 0

function init(args)
  path = "/c/" .. (args[1] or "x") .. "?sub1=bench"
  -- Each wrk thread walks its own addresses.
  n = math.random(1, 1000000)
end

function request()
  n = n + 1
  local ip = string.format("%d.%d.%d.%d", 1 + (n * 7919) % 223, (n * 31) % 256, (n * 17) % 256, 1 + n % 254)
  local headers = { ["User-Agent"] = agents[n % #agents + 1], ["X-Forwarded-For"] = ip }
  if with_country then
    headers["CF-IPCountry"] = countries[n % #countries + 1]
  end
  return wrk.format("GET", path, headers)
end
