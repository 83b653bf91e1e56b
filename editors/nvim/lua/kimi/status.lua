--- `:KimiStatus`, and the statusline component: the model that answered (and whether a
--- fallback did), session cost, work in progress.
local protocol = require("kimi.protocol")

local M = {}

---@class kimi.Usage
---@field requests? integer
---@field promptTokens integer
---@field cachedTokens integer
---@field completionTokens integer
---@field cost number
---@field currency string

---@class kimi.Answer  who answered the last model call (kimi/usage `usage`)
---@field model string
---@field role string|nil
---@field fallback boolean
---@field estimated boolean  the endpoint reported no usage: the figures were counted locally

---@class kimi.StatusState
---@field model string|nil
---@field version string|nil
---@field session kimi.Usage|nil
---@field answer kimi.Answer|nil  nil until a server with roles said who answered
---@field busy integer  requests of this plugin in flight
---@field prediction boolean|nil  edit prediction on (nil before setup())
M.state = { model = nil, version = nil, session = nil, answer = nil, busy = 0 }

--- Who answered, from a kimi/usage `usage` (or a result's); nil when it does not say (a server
--- without roles), so the statusline keeps what it showed.
---@param usage any
---@return kimi.Answer|nil
function M.answered_by(usage)
  if type(usage) ~= "table" or type(usage.model) ~= "string" or usage.model == "" then
    return nil
  end
  return {
    model = usage.model,
    role = type(usage.role) == "string" and usage.role ~= "" and usage.role or nil,
    fallback = usage.fallback == true,
    estimated = usage.estimated == true,
  }
end

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
  if type(params) ~= "table" then
    return
  end
  if type(params.session) == "table" then
    M.state.session = params.session
  end
  M.state.answer = M.answered_by(params.usage) or M.state.answer
  redraw()
end

--- `kimi/status` `roles` and `lastFallback` as lines (none from a server without roles).
---@param status table
---@return string[]
function M.roles_lines(status)
  local lines = {}
  if type(status.roles) == "table" then
    local names = vim.tbl_keys(status.roles)
    table.sort(names)
    for _, role in ipairs(names) do
      local info = status.roles[role]
      if type(info) == "table" then
        local at = type(info.baseUrl) == "string" and (" · " .. info.baseUrl) or ""
        lines[#lines + 1] = string.format("Role %s: %s%s", role, tostring(info.model), at)
      end
    end
  end
  local last = status.lastFallback
  if type(last) == "table" then
    local at = last.at ~= nil and (" at " .. tostring(last.at)) or ""
    lines[#lines + 1] = string.format("Last fallback%s: %s → %s (%s)", at, tostring(last.from),
      tostring(last.to), tostring(last.kind))
  end
  return lines
end

--- "Last answer: fast-model (chat) via fallback", or nil before any.
---@param answer kimi.Answer|nil
---@return string|nil
function M.answer_line(answer)
  if not answer then
    return nil
  end
  local role = answer.role and (" (" .. answer.role .. ")") or ""
  local via = answer.fallback and " via fallback" or ""
  local estimated = answer.estimated and " (token counts estimated: the endpoint reported none)"
    or ""
  return "Last answer: " .. answer.model .. role .. via .. estimated
end

--- `kimi/status` `prediction` as a line: on/off, counts and cost (nil from an older server).
---@param p any
---@return string|nil
function M.prediction_line(p)
  if type(p) ~= "table" then
    return nil
  end
  return string.format("Prediction: %s · %s made, %s shown, %s accepted, %s rejected · %s",
    p.enabled == false and "off" or "on", protocol.count(p.made), protocol.count(p.shown),
    protocol.count(p.accepted), protocol.count(p.rejected), protocol.money(p.cost, "USD"))
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
  vim.list_extend(lines, M.roles_lines(status))
  lines[#lines + 1] = M.answer_line(M.state.answer)
  local prediction = M.prediction_line(status.prediction)
  if prediction then
    lines[#lines + 1] = prediction
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

--- For the statusline: "Kimi kimi-k2.6 $0.0123 predict:on": the model that answered last (the
--- configured one before any answer), "(fallback)" after it when a fallback model answered,
--- whether edit prediction is on (after setup()), "…" while a request runs; "" when no kimi
--- client is running.
---@return string
function M.statusline()
  if #vim.lsp.get_clients({ name = "kimi" }) == 0 then
    return ""
  end
  return M.format_statusline(M.state)
end

--- The statusline text of `state` (a kimi.StatusState).
---@param state kimi.StatusState
---@return string
function M.format_statusline(state)
  local parts = { "Kimi" }
  local answer = state.answer
  local model = answer and answer.model or state.model
  if model then
    parts[#parts + 1] = model
  end
  if answer and answer.fallback then
    parts[#parts + 1] = "(fallback)"
  end
  local session = state.session
  if session then
    parts[#parts + 1] = protocol.money(session.cost, session.currency)
  end
  if state.prediction ~= nil then
    parts[#parts + 1] = state.prediction and "predict:on" or "predict:off"
  end
  if state.busy > 0 then
    parts[#parts + 1] = "…"
  end
  return table.concat(parts, " ")
end

return M
