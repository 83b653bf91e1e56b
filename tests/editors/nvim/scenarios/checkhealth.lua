-- :checkhealth kimi four times: everything in place (online check against the fake API); a
-- wrong key in the settings; an unreachable endpoint; no key and no server executable.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local function checkhealth()
  vim.cmd("checkhealth kimi")
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  vim.cmd("bwipeout!")
  return text
end

H.run(function()
  H.setup({ health = { online = true } })
  H.open("calc.py")
  local good = checkhealth()

  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop(true)
  end
  H.wait(5000, function()
    return #vim.lsp.get_clients() == 0
  end, "the client to stop")
  local options = require("kimi.config").options
  options.settings.apiKey = "sk-wrong-key-0123456789"
  local wrong_key = checkhealth()

  options.settings.apiKey = nil
  options.settings.baseUrl = "http://127.0.0.1:1/v1"
  local unreachable = checkhealth()

  vim.env.MOONSHOT_API_KEY = nil
  options.cmd = { "no-such-kimi-lsp" }
  options.health.online = false
  local missing = checkhealth()
  return { good = good, wrong_key = wrong_key, unreachable = unreachable, missing = missing }
end)
