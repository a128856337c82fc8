-- wrk script: POSTs one JSON body with every request.
--
--   wrk ... -s scripts/lib/post.lua URL -- <path> <body file>
--
-- Prints the RESULT line of scripts/lib/result.lua at the end.
function init(args)
  local f = assert(io.open(args[2], "r"))
  wrk.path = args[1]
  wrk.method = "POST"
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end

-- The RESULT line (scripts/lib/result.lua, beside this file).
dofile(debug.getinfo(1, "S").source:match("^@(.*[/\\])") .. "result.lua")
