--- `:KimiRefactor`: multi-file refactors (kimi/refactor). The server does not implement
--- kimi/refactor yet, so the command only says so.
local M = {}

--- :KimiRefactor {instruction}
function M.command()
  require("kimi.log").notify(
    ":KimiRefactor is not available yet: the server does not implement kimi/refactor. "
      .. "Use :KimiEdit on a selection meanwhile.",
    "warn"
  )
end

return M
