--- Messages for the user (vim.notify) and the plugin's own log file.
local M = {}

local LEVELS = { debug = 1, info = 2, warn = 3, error = 4, off = 5 }
local NOTIFY = {
  debug = vim.log.levels.DEBUG,
  info = vim.log.levels.INFO,
  warn = vim.log.levels.WARN,
  error = vim.log.levels.ERROR,
}

--- JSON-RPC code of a cancelled request: the user asked for it, nothing to report.
M.REQUEST_CANCELLED = -32800

---@return string
function M.file()
  local options = require("kimi.config").options.log
  return options.file or (vim.fn.stdpath("log") .. "/kimi.log")
end

---@param level "debug"|"info"|"warn"|"error"
---@param message string
function M.write(level, message)
  local wanted = require("kimi.config").options.log.level
  if LEVELS[level] < LEVELS[wanted] then
    return
  end
  local path = M.file()
  vim.fn.mkdir(vim.fn.fnamemodify(path, ":h"), "p")
  local handle = io.open(path, "a")
  if handle then
    handle:write(string.format("%s [%s] %s\n", os.date("%Y-%m-%d %H:%M:%S"), level, message))
    handle:close()
  end
end

function M.debug(message)
  M.write("debug", message)
end

function M.info(message)
  M.write("info", message)
end

function M.warn(message)
  M.write("warn", message)
end

function M.error(message)
  M.write("error", message)
end

--- Tell the user; the text is logged too.
---@param message string
---@param level? "debug"|"info"|"warn"|"error"  default "info"
function M.notify(message, level)
  level = level or "info"
  M.write(level, message)
  if not message:match("^Kimi") then
    message = "Kimi: " .. message
  end
  vim.notify(message, NOTIFY[level], { title = "Kimi" })
end

--- Show a failed request's error: the server's own sentence (protocol.md "Errors").
--- Cancellations are silent.
---@param err lsp.ResponseError|table|string
---@param what? string  what failed, used when the error carries no message
function M.rpc_error(err, what)
  if type(err) == "table" and err.code == M.REQUEST_CANCELLED then
    return
  end
  local message
  if type(err) == "table" then
    message = err.message
    local kind = type(err.data) == "table" and err.data.kind or nil
    M.write("error", string.format("%s failed (%s, %s): %s", what or "request", tostring(err.code),
      tostring(kind), tostring(message)))
  else
    message = tostring(err)
  end
  if not message or message == "" then
    message = (what or "The request") .. " failed."
  end
  M.notify(message, "error")
end

return M
