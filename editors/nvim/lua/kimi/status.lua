--- `:KimiStatus`, and the statusline component: model, session cost, work in progress.
local protocol = require("kimi.protocol")

local M = {}

---@class kimi.Usage
---@field requests? integer
---@field promptTokens integer
---@field cachedTokens integer
---@field completionTokens integer
---@field cost number
---@field currency string

---@class kimi.StatusState
---@field model string|nil
---@field version string|nil
---@field session kimi.Usage|nil
---@field busy integer  requests of this plugin in flight
M.state = { model = nil, version = nil, session = nil, busy = 0 }

local function redraw()
  vim.schedule(function()
    pcall(vim.cmd.redrawstatus)
  end)
end

--- One more (+1) or one less (-1) request in flight.
---@param delta integer
function M.busy(delta)
  M.state.busy = math.max(0, M.state.busy + delta)
  redraw()
end

---@param status table  a kimi/status result
local function remember(status)
  M.state.model = status.model
  M.state.version = status.version
  if type(status.usage) == "table" then
    M.state.session = status.usage
  end
  redraw()
end

--- Fetch kimi/status (on init, so the statusline knows the model).
---@param client vim.lsp.Client
---@param callback? fun(status: table)
function M.refresh(client, callback)
  require("kimi.lsp").request(client, "kimi/status", vim.empty_dict(), function(result)
    if type(result) == "table" then
      remember(result)
      if callback then
        callback(result)
      end
    end
  end)
end

--- kimi/usage: after every model call, with the session totals.
function M.on_usage(_, params)
  if type(params) == "table" and type(params.session) == "table" then
    M.state.session = params.session
    redraw()
  end
end

--- The status as lines for a person.
---@param status table
---@return string[]
function M.describe(status)
  local usage = status.usage or {}
  local lines = {
    string.format("kimi-lsp %s · model %s · %s", tostring(status.version),
      tostring(status.model), tostring(status.baseUrl)),
    status.apiKeyConfigured and "API key: configured"
      or "API key: missing (set MOONSHOT_API_KEY or the kimi.apiKey setting)",
    string.format(
      "Session: %s request(s), %s prompt tokens (%s cached), %s output tokens, %s",
      protocol.count(usage.requests),
      protocol.count(usage.promptTokens),
      protocol.count(usage.cachedTokens),
      protocol.count(usage.completionTokens),
      protocol.money(usage.cost, usage.currency)
    ),
  }
  if status.tokenizer then
    lines[#lines + 1] = "Tokenizer: " .. tostring(status.tokenizer)
  end
  if type(status.lastError) == "table" then
    lines[#lines + 1] = string.format("Last error (%s): %s", tostring(status.lastError.kind),
      tostring(status.lastError.message))
  end
  return lines
end

--- :KimiStatus
function M.show()
  local lsp = require("kimi.lsp")
  lsp.with_client(vim.api.nvim_get_current_buf(), false, function(client)
    M.refresh(client, function(status)
      require("kimi.log").notify(table.concat(M.describe(status), "\n"), "info")
    end)
  end)
end

--- For the statusline: "Kimi kimi-k2.6 $0.0123", with "…" while a request runs; "" when no
--- kimi client is running.
---@return string
function M.statusline()
  if #vim.lsp.get_clients({ name = "kimi" }) == 0 then
    return ""
  end
  local parts = { "Kimi" }
  if M.state.model then
    parts[#parts + 1] = M.state.model
  end
  local session = M.state.session
  if session then
    parts[#parts + 1] = protocol.money(session.cost, session.currency)
  end
  if M.state.busy > 0 then
    parts[#parts + 1] = "…"
  end
  return table.concat(parts, " ")
end

return M
