-- The status module on its own (no server): who answered from kimi/usage, the statusline text with
-- and without the fallback marker, the roles and last fallback of kimi/status as lines.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  vim.opt.runtimepath:prepend(H.plugin)
  local status = require("kimi.status")
  local session = { cost = 0.0011, currency = "USD" }
  local lines = {}
  local function line()
    lines[#lines + 1] = status.format_statusline(status.state)
    return lines[#lines]
  end
  status.state.model = "kimi-k2.6"
  line() -- before any answer: the configured model
  -- A server without roles says no model: what was shown stays.
  status.on_usage(nil, { usage = { promptTokens = 3 }, session = session })
  line()
  status.on_usage(nil, {
    usage = { model = "kimi-k2.5", role = "chat", fallback = true, estimated = true },
    session = session,
  })
  line()
  local answer_fallback = status.answer_line(status.state.answer)
  status.state.busy = 1
  line()
  status.state.busy = 0
  status.on_usage(nil, {
    usage = { model = "kimi-k2.6", role = "chat", fallback = false },
    session = session,
  })
  line()
  local answer_primary = status.answer_line(status.state.answer)
  local roles = status.roles_lines({
    roles = {
      prediction = { model = "kimi-k2.5" },
      chat = { model = "kimi-k2.6", baseUrl = "https://api.moonshot.ai/v1" },
    },
    lastFallback = {
      at = "2026-12-07T11:00:00Z", from = "kimi-k2.6", to = "kimi-k2.5", kind = "overloaded",
    },
  })
  return {
    lines = lines,
    answer_fallback = answer_fallback,
    answer_primary = answer_primary,
    roles = roles,
    no_roles = status.roles_lines({ model = "kimi-k2.6" }),
    not_an_answer = { status.answered_by({ model = "" }) == nil, status.answered_by("x") == nil },
  }
end)
