-- Pre-signed Stripe events from a file, one per line: "<Stripe-Signature>\t<body>". wrk's Lua
-- has no HMAC, so bench/webhook_events.py signs them. Thread `tid` of `n` sends lines tid, tid+n,
-- ... each once (the Python side checks the file was not used up). wrk args: file, n, path.
local events, index, path = {}, 0, ""

function init(args)
  local step, n = tonumber(args[2]), 0
  for line in io.lines(args[1]) do
    if n % step == tid then
      local tab = line:find("\t", 1, true)
      events[#events + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
    end
    n = n + 1
  end
  path = args[3]
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  index = index % #events + 1
  local event = events[index]
  wrk.headers["Stripe-Signature"] = event[1]
  return wrk.format("POST", path, nil, event[2])
end
