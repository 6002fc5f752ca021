-- wrk (4.1, LuaJIT) script for the verifier service load benchmark
-- (docs/BENCHMARKS.md, "Verifier service"; driven by bench/service_bench.sh).
--
--   wrk -t T -c C -d D --latency -s service_attest.lua URL -- PREFIX EXPECTED PATH
--
-- Thread i (0-based, in setup order) reads PREFIX.i, one evidence bundle per
-- line, lazily (one line per request: a soak's bundles never sit in memory)
-- and POSTs each line exactly once to PATH (e.g. /v1/attest?policy=ID) on
-- its keep-alive connections. A thread whose file runs out stops: its last
-- request is a GET /healthz (wrk needs a request), counted as "filler".
--
-- Every response is checked: status 200, and every "verdict" in the body
-- (the result's and its report's) equal to EXPECTED; anything else is
-- counted and the first such answer kept (truncated) for the report.
--
-- Pacing: with SERVICE_BENCH_RATE=R (requests per second, all threads
-- together) in the environment, each thread hands out send times on its own
-- fixed schedule, one every T/R seconds, and delay() holds a connection
-- until the next free slot. wrk 4.1 is closed-loop: a connection sends its
-- next request only after the previous response, and wrk's latency runs
-- from the actual send, not from the slot; a stall therefore delays the
-- requests behind it without their waiting being counted (coordinated
-- omission), so the latencies understate what an open-loop client would see.
-- Without it (or 0) there is no delay(): each connection sends as fast as
-- its responses come back.
--
-- SERVICE_BENCH_THREADS must then be wrk's -t.
-- SERVICE_BENCH_JSON=FILE: done() writes the totals there as one JSON object.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } fdattest_bench_timespec;
int clock_gettime(int clock_id, fdattest_bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("fdattest_bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

local total_rate = tonumber(os.getenv("SERVICE_BENCH_RATE") or "0") or 0

-- Setup phase (wrk's main Lua state): number the threads, keep them for done().
local threads = {}
function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

-- Running phase (one Lua state per wrk thread). Globals, so done() can read
-- them with thread:get().
sent = 0        -- bundles sent
ok = 0          -- 200 with the expected verdict
non200 = 0      -- any other status
wrong = 0       -- 200 with another verdict, or none
filler = 0      -- answers to the GET /healthz sent when the file ran out
exhausted = 0   -- 1 once this thread's file ran out
statuses = {}   -- status -> count, for non-200
first_problem = ""

local file, path, expected
local want  -- '"verdict":"EXPECTED"'
local headers = { ["Content-Type"] = "application/json" }
local thread_rate, interval_ms, next_slot

function init(args)
  local prefix = args[1]
  expected = args[2]
  path = args[3]
  if prefix == nil or expected == nil or path == nil then
    error("usage: wrk ... -s service_attest.lua URL -- PREFIX EXPECTED_VERDICT PATH")
  end
  want = '"verdict":"' .. expected .. '"'
  local name = prefix .. "." .. thread_index
  file = io.open(name, "rb")
  if file == nil then error("cannot read " .. name) end
  if total_rate > 0 then
    -- wrk tells a thread's state nothing of the other threads: the driver
    -- passes their number, which must be wrk's -t.
    local n = tonumber(os.getenv("SERVICE_BENCH_THREADS") or "")
    if n == nil or n < 1 then error("SERVICE_BENCH_THREADS must be set with SERVICE_BENCH_RATE") end
    thread_rate = total_rate / n
  end
end

if total_rate > 0 then
  function delay()
    local now = now_ms()
    if interval_ms == nil then
      interval_ms = 1000 / thread_rate
      next_slot = now
    end
    local wait = next_slot - now
    next_slot = next_slot + interval_ms
    if wait > 0 then return wait end
    return 0
  end
end

function request()
  local line = file:read("*l")
  if line == nil or line == "" then
    exhausted = 1
    wrk.thread:stop()
    return wrk.format("GET", "/healthz", {}, nil)
  end
  sent = sent + 1
  return wrk.format("POST", path, headers, line)
end

-- Occurrences of `needle` in `text`.
local function count(text, needle)
  local n, at = 0, 1
  while true do
    local i = string.find(text, needle, at, true)
    if i == nil then return n end
    n = n + 1
    at = i + #needle
  end
end

local function note(problem)
  if first_problem == "" then first_problem = string.sub(problem, 1, 400) end
end

function response(status, _, body)
  if status == 200 and body == '{"status":"ok"}' then
    filler = filler + 1
    return
  end
  if status ~= 200 then
    non200 = non200 + 1
    statuses[status] = (statuses[status] or 0) + 1
    note("status " .. status .. ": " .. (body or ""))
    return
  end
  -- Plain searches (string.gmatch is not compiled by LuaJIT): every
  -- "verdict":" must open "verdict":"EXPECTED".
  local seen, good_ones = count(body, '"verdict":"'), count(body, want)
  local good = good_ones == seen
  if good and seen > 0 then
    ok = ok + 1
  else
    wrong = wrong + 1
    note("status 200: " .. body)
  end
end

-- Done phase (the main state again).
local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local totals = { sent = 0, ok = 0, non200 = 0, wrong = 0, filler = 0, exhausted_threads = 0 }
  local status_counts = {}
  local problem = ""
  for _, thread in ipairs(threads) do
    totals.sent = totals.sent + thread:get("sent")
    totals.ok = totals.ok + thread:get("ok")
    totals.non200 = totals.non200 + thread:get("non200")
    totals.wrong = totals.wrong + thread:get("wrong")
    totals.filler = totals.filler + thread:get("filler")
    totals.exhausted_threads = totals.exhausted_threads + thread:get("exhausted")
    for code, n in pairs(thread:get("statuses")) do
      status_counts[code] = (status_counts[code] or 0) + n
    end
    if problem == "" then problem = thread:get("first_problem") end
  end
  local parts = {}
  local function add(key, value) parts[#parts + 1] = json_string(key) .. ":" .. value end
  add("threads", tostring(#threads))
  add("target_rate", tostring(total_rate))
  add("duration_us", tostring(summary.duration))
  add("requests", tostring(summary.requests))
  add("bytes_received", tostring(summary.bytes))
  add("rate", string.format("%.2f", summary.requests / (summary.duration / 1e6)))
  add("socket_errors", string.format('{"connect":%d,"read":%d,"write":%d,"timeout":%d}',
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  add("wrk_status_errors", tostring(summary.errors.status))
  for _, key in ipairs({ "sent", "ok", "non200", "wrong", "filler", "exhausted_threads" }) do
    add(key, tostring(totals[key]))
  end
  local codes = {}
  for code, n in pairs(status_counts) do codes[#codes + 1] = string.format('"%d":%d', code, n) end
  add("statuses", "{" .. table.concat(codes, ",") .. "}")
  add("first_problem", json_string(problem))
  add("latency_us", string.format(
    '{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p99_9":%d}',
    latency.min, latency.mean, latency.stdev, latency.max, latency:percentile(50),
    latency:percentile(75), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
  local text = "{" .. table.concat(parts, ",") .. "}\n"
  local out = os.getenv("SERVICE_BENCH_JSON")
  if out ~= nil and out ~= "" then
    local f = assert(io.open(out, "w"))
    f:write(text)
    f:close()
  end
  io.write(text)
end
