-- wrk script for scripts/bench: every scenario and HTTP ceiling.
--
-- Driven by the environment (wrk passes nothing else to every thread's Lua state):
--   BENCH_MODE   plain    GET the URL given to wrk (ceilings: static, /api/health)
--                get      GET /api/events/$BENCH_EVENT (cached event)
--                poll     GET /api/events/$BENCH_EVENT/queue (a waiting room's poll)
--                reserve  POST /api/reservations {"eventId":E,"userId":U,"quantity":Q}
--                         with a distinct userId per request: "$BENCH_TAG-<thread>-<n>"
--   BENCH_EVENT  event id; BENCH_QTY quantity (1); BENCH_TAG userId prefix
--   BENCH_KEYED  1: reserve sends an Idempotency-Key, distinct per request
--   BENCH_OUT    file that done() writes one JSON object to
--
-- response() counts answers by status in each thread, and the 409s by error code
-- (CONCURRENT_RESERVATION / INSUFFICIENT_SEATS / other); done() sums the threads and
-- writes requests, duration, wrk's socket errors and the latency percentiles
-- (wrk's HdrHistogram, microseconds).

local mode = os.getenv("BENCH_MODE") or "plain"
local event = os.getenv("BENCH_EVENT") or "1"
local qty = os.getenv("BENCH_QTY") or "1"
local tag = os.getenv("BENCH_TAG") or "bench"
local out = os.getenv("BENCH_OUT")
local keyed = os.getenv("BENCH_KEYED") == "1"

local threads = {}
local nthreads = 0

function setup(thread)
   nthreads = nthreads + 1
   thread:set("tid", nthreads)
   table.insert(threads, thread)
end

function init(args)
   statuses = {}
   c409_conc = 0
   c409_insuf = 0
   c409_limit = 0
   c409_other = 0
   seq = 0
   if mode == "reserve" then
      hdrs = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
      prefix = '{"eventId":' .. event .. ',"userId":"' .. tag .. '-' .. tid .. '-'
      suffix = '","quantity":' .. qty .. '}'
   elseif mode == "get" then
      fixed = wrk.format("GET", "/api/events/" .. event)
   elseif mode == "poll" then
      fixed = wrk.format("GET", "/api/events/" .. event .. "/queue")
   else
      fixed = wrk.format("GET", wrk.path)
   end
end

function request()
   if mode == "reserve" then
      seq = seq + 1
      if keyed then
         hdrs["Idempotency-Key"] = "k-" .. seq
      end
      return wrk.format("POST", "/api/reservations", hdrs, prefix .. seq .. suffix)
   end
   return fixed
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status == 409 then
      if string.find(body, "CONCURRENT_RESERVATION", 1, true) then
         c409_conc = c409_conc + 1
      elseif string.find(body, "INSUFFICIENT_SEATS", 1, true) then
         c409_insuf = c409_insuf + 1
      elseif string.find(body, "LIMIT_EXCEEDED", 1, true) then
         c409_limit = c409_limit + 1
      else
         c409_other = c409_other + 1
      end
   end
end

function done(summary, latency, requests)
   local st, conc, insuf, limit, other = {}, 0, 0, 0, 0
   for _, t in ipairs(threads) do
      local s = t:get("statuses") or {}
      for k, v in pairs(s) do
         st[k] = (st[k] or 0) + v
      end
      conc = conc + (t:get("c409_conc") or 0)
      insuf = insuf + (t:get("c409_insuf") or 0)
      limit = limit + (t:get("c409_limit") or 0)
      other = other + (t:get("c409_other") or 0)
   end
   local parts = {}
   for k, v in pairs(st) do
      table.insert(parts, string.format('"%d": %d', k, v))
   end
   local e = summary.errors
   local json = string.format(
      '{"mode": "%s", "threads": %d, "requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"statuses": {%s}, "c409": {"CONCURRENT_RESERVATION": %d, "INSUFFICIENT_SEATS": %d, ' ..
      '"LIMIT_EXCEEDED": %d, "other": %d}, ' ..
      '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, "non2xx3xx": %d, ' ..
      '"latency_us": {"mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p99": %d, "p999": %d}}',
      mode, nthreads, summary.requests, summary.duration, summary.bytes,
      table.concat(parts, ", "), conc, insuf, limit, other,
      e.connect, e.read, e.write, e.timeout, e.status,
      latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9))
   if out then
      local f = assert(io.open(out, "w"))
      f:write(json, "\n")
      f:close()
   end
   io.write("bench-result ", json, "\n")
end
