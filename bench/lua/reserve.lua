-- One unit of one SKU for a new checkout id each request: "<run>-<thread>-<n>".
-- wrk args: run id, storefront token, sku.
local counter, prefix, body = 0, "", ""

function init(args)
  prefix = "/v1/checkouts/" .. args[1] .. "-" .. tid .. "-"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  wrk.headers["Content-Type"] = "application/json"
  body = '{"email": "bench@example.com", "items": [{"sku": "' .. args[3] .. '", "quantity": 1}]}'
end

function request()
  counter = counter + 1
  return wrk.format("POST", prefix .. counter .. "/reservation", nil, body)
end
