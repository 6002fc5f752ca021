-- wrk (4.1, LuaJIT) script that collects nonces from fdverifierd for the
-- service load benchmark (bench/service_bench.sh): POST /v1/challenge on
-- keep-alive connections, each nonce written as one hex line to PREFIX.i
-- (i = the thread's 0-based index), until the driver stops wrk (SIGINT)
-- once the files hold enough. Every connection keeps asking to the end: a
-- lone straggler would pay, on each request, the store's once-a-second count
-- of outstanding nonces (verifier/service/nonce_budget.h), which others share.
--
--   wrk -t T -c C -d LIMIT -s service_challenge.lua URL -- PREFIX
--
-- Any answer but 200 with a nonce is counted; done() prints
-- "challenge: N nonces, E errors" and the driver checks E = 0.

local threads = {}
function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

written = 0
errors = 0

local file
local request_text

function init(args)
  local prefix = args[1]
  if prefix == nil then error("usage: wrk ... -s service_challenge.lua URL -- PREFIX") end
  file = assert(io.open(prefix .. "." .. thread_index, "w"))
  -- Line-buffered, so the driver's line counts are current.
  file:setvbuf("line")
  request_text = wrk.format("POST", "/v1/challenge", { ["Content-Type"] = "application/json" }, "{}")
end

function request()
  return request_text
end

function response(status, _, body)
  local nonce = status == 200 and string.match(body, '"nonce":"(%x+)"') or nil
  if nonce == nil then
    errors = errors + 1
    return
  end
  file:write(nonce, "\n")
  written = written + 1
end

function done()
  local n, e = 0, 0
  for _, thread in ipairs(threads) do
    n = n + thread:get("written")
    e = e + thread:get("errors")
  end
  io.write(string.format("challenge: %d nonces, %d errors\n", n, e))
end
