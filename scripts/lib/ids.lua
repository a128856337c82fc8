-- wrk script: each request GETs a path with "{id}" replaced by a random line of a file
-- of ids (a different seed per thread), so reads spread over the data set as the
-- floor's random integer ids do.
--
--   wrk ... -s scripts/lib/ids.lua URL -- <path with {id}> <ids file>
--
-- Prints the RESULT line of scripts/lib/result.lua at the end.
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  local path, file = args[1], args[2]
  local ids = {}
  for line in io.lines(file) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  local a, b = string.find(path, "{id}", 1, true)
  local prefix, suffix = string.sub(path, 1, a - 1), string.sub(path, b + 1)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  for _ = 1, 10 do math.random() end
  request = function()
    return wrk.format("GET", prefix .. ids[math.random(1, #ids)] .. suffix)
  end
end

-- The RESULT line (scripts/lib/result.lua, beside this file).
dofile(debug.getinfo(1, "S").source:match("^@(.*[/\\])") .. "result.lua")
