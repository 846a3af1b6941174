-- bench/peer's wrk script: POST the JSON body in WRK_BODY_FILE (with "Authorization: WRK_AUTH" when
-- set), count answers that are not 200 or that carry "errors", print one WRKJSON line at the end.
local f = assert(io.open(os.getenv("WRK_BODY_FILE"), "r"))
local body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
local auth = os.getenv("WRK_AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; bytes = 0 end
function response(status, headers, rbody)
  if status ~= 200 or (rbody and string.find(rbody, '"errors"', 1, true)) then bad = bad + 1 end
  if rbody then bytes = #rbody end
end
function done(summary, latency, requests)
  local b, n = 0, 0
  for _, t in ipairs(threads) do b = b + t:get("bad"); n = math.max(n, t:get("bytes")) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"seconds":%.3f,"p50_ms":%.3f,"p99_ms":%.3f,"socket_errors":%d,"bad":%d,"bytes":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, b, n))
end
