-- wrk (4.1, LuaJIT) script that collects nonces from fdverifierd for the
-- service load benchmark (bench/service_bench.sh): POST /v1/challenge on
-- keep-alive connections until each thread has written COUNT nonces, one
-- hex nonce per line, to PREFIX.i (i = the thread's 0-based index).
--
--   wrk -t T -c C -d LIMIT -s service_challenge.lua URL -- PREFIX COUNT
--
-- Answers after the COUNT-th of a thread are dropped (their nonces expire
-- unused). Any answer but 200 with a nonce is counted; done() prints
-- "challenge: N nonces, E errors" and the driver checks both.

local threads = {}
function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

written = 0
errors = 0

local file, wanted
local request_text

function init(args)
  local prefix = args[1]
  wanted = tonumber(args[2] or "")
  if prefix == nil or wanted == nil then
    error("usage: wrk ... -s service_challenge.lua URL -- PREFIX COUNT")
  end
  file = assert(io.open(prefix .. "." .. thread_index, "w"))
  request_text = wrk.format("POST", "/v1/challenge", { ["Content-Type"] = "application/json" }, "{}")
end

function request()
  return request_text
end

function response(status, _, body)
  if written >= wanted then return end
  local nonce = status == 200 and string.match(body, '"nonce":"(%x+)"') or nil
  if nonce == nil then
    errors = errors + 1
    return
  end
  file:write(nonce, "\n")
  written = written + 1
  if written == wanted then
    file:close()
    wrk.thread:stop()
  end
end

function done()
  local n, e = 0, 0
  for _, thread in ipairs(threads) do
    n = n + thread:get("written")
    e = e + thread:get("errors")
  end
  io.write(string.format("challenge: %d nonces, %d errors\n", n, e))
end
