--- `:KimiContext [chat|edit|refactor]`: the kimi/context manifest (what the next request of
--- that purpose would send) in a float.
local protocol = require("kimi.protocol")

local M = {}

--- The manifest as lines for a person.
---@param manifest table  a kimi/context result
---@param purpose string
---@return string[]
function M.describe(manifest, purpose)
  local lines = {
    string.format("Context for %s: %s of %s tokens (%s%s)", purpose,
      protocol.count(manifest.totalTokens), protocol.count(manifest.budget),
      tostring(manifest.tokenizer), manifest.exact and ", exact" or ", approximate"),
    "",
  }
  for _, section in ipairs(manifest.sections or {}) do
    local where = section.uri and (" " .. vim.fn.fnamemodify(vim.uri_to_fname(section.uri), ":~:.")) or ""
    if section.range then
      where = where .. string.format(":%d-%d", section.range.start.line + 1,
        section.range["end"].line)
    end
    lines[#lines + 1] = string.format("%8s  %s%s — %s%s", protocol.count(section.tokens),
      section.kind, where, tostring(section.reason), section.truncated and " (truncated)" or "")
  end
  if manifest.excluded and #manifest.excluded > 0 then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "Left out:"
    for _, item in ipairs(manifest.excluded) do
      lines[#lines + 1] = string.format("  %s — %s",
        vim.fn.fnamemodify(vim.uri_to_fname(item.uri), ":~:."), tostring(item.reason))
    end
  end
  return lines
end

--- Show `lines` in a centred float; q or <Esc> closes it.
---@param lines string[]
---@param title string
---@return integer win
function M.float(lines, title)
  local bufnr = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  vim.bo[bufnr].modifiable = false
  vim.bo[bufnr].bufhidden = "wipe"
  local width = 20
  for _, line in ipairs(lines) do
    width = math.max(width, vim.api.nvim_strwidth(line))
  end
  width = math.min(width + 2, math.floor(vim.o.columns * 0.9))
  local height = math.min(#lines, math.floor(vim.o.lines * 0.8))
  local win = vim.api.nvim_open_win(bufnr, true, {
    relative = "editor",
    width = width,
    height = math.max(height, 1),
    row = math.floor((vim.o.lines - height) / 2),
    col = math.floor((vim.o.columns - width) / 2),
    style = "minimal",
    border = "rounded",
    title = " " .. title .. " ",
  })
  for _, lhs in ipairs({ "q", "<Esc>" }) do
    vim.keymap.set("n", lhs, function()
      pcall(vim.api.nvim_win_close, win, true)
    end, { buffer = bufnr, nowait = true })
  end
  return win
end

--- :KimiContext [purpose]
---@param purpose? "chat"|"edit"|"refactor"
function M.show(purpose)
  purpose = (purpose and purpose ~= "") and purpose or "chat"
  if not vim.tbl_contains({ "chat", "edit", "refactor" }, purpose) then
    require("kimi.log").notify("the purpose is one of chat, edit, refactor.", "warn")
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local lsp = require("kimi.lsp")
  if not lsp.attached(bufnr) then
    require("kimi.log").notify("Kimi is not attached to this buffer.", "warn")
    return
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  lsp.with_client(bufnr, true, function(client)
    local params = {
      textDocument = { uri = protocol.uri(bufnr) },
      position = { line = cursor[1] - 1, character = 0 },
      purpose = purpose,
    }
    require("kimi.definitions").around(bufnr, nil, cursor[1] - 1, function(located)
      require("kimi.definitions").attach(params, located)
      lsp.request(client, "kimi/context", params, function(result)
        if type(result) == "table" then
          M.float(M.describe(result, purpose), "Kimi context")
        end
      end, bufnr)
    end)
  end)
end

return M
