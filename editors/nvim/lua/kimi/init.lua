--- kimi.nvim: kimi-lsp (Moonshot's kimi-k2.6 behind an LSP server) in Neovim.
---
--- require("kimi").setup({ ... }) registers the server; the commands live in plugin/kimi.lua
--- and load their modules on first use.
local M = {}

--- Configure the plugin and register the server (see :help kimi-options).
---@param opts? kimi.Config|table
function M.setup(opts)
  if vim.fn.has("nvim-0.10") ~= 1 then
    vim.notify("kimi.nvim needs Neovim 0.10 or newer", vim.log.levels.ERROR)
    return
  end
  require("kimi.config").set(opts)
  require("kimi.lsp").setup()
  require("kimi.predict").setup()
end

--- A statusline component: "Kimi kimi-k2.6 $0.0123" ("" when the server is not running).
---@return string
function M.statusline()
  return require("kimi.status").statusline()
end

--- Turn edit prediction on or off (like :KimiPredict on|off); nil toggles.
---@param on? boolean
function M.predict(on)
  if on == nil then
    on = not require("kimi.config").options.prediction.enabled
  end
  require("kimi.predict").set(on)
end

--- Ask in the chat buffer (like :KimiChat message).
---@param message string
function M.chat(message)
  require("kimi.chat").ask(message, { bufnr = vim.api.nvim_get_current_buf() })
end

--- Edit lines `first`..`last` (1-based) of the current buffer (like :KimiEdit).
---@param first integer
---@param last integer
---@param instruction string
function M.edit(first, last, instruction)
  local range = require("kimi.protocol").line_range(first, last)
  require("kimi.edit").start(vim.api.nvim_get_current_buf(), range, instruction)
end

--- Stop whatever Kimi is writing: the chat answer, edits and a refactor in progress.
function M.stop()
  require("kimi.chat").stop()
  require("kimi.edit").stop_all()
  require("kimi.refactor").stop()
end

return M
