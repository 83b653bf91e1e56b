--- Drawing a proposed edit as a diff with extmarks: removed lines highlighted in place, new
--- lines as virtual lines under them. Nothing here changes the buffer's text.
local protocol = require("kimi.protocol")

local M = {}

M.ns = vim.api.nvim_create_namespace("kimi.edit")

local function define_highlights()
  local set = vim.api.nvim_set_hl
  set(0, "KimiDiffAdd", { link = "DiffAdd", default = true })
  set(0, "KimiDiffDelete", { link = "DiffDelete", default = true })
  set(0, "KimiDiffPending", { link = "Comment", default = true })
  set(0, "KimiHint", { link = "Comment", default = true })
end

define_highlights()
vim.api.nvim_create_autocmd("ColorScheme", {
  group = vim.api.nvim_create_augroup("kimi.preview", { clear = true }),
  callback = define_highlights,
})

--- Virtual lines for `lines`, tabs expanded and padded so the highlight reads as a band.
---@param bufnr integer
---@param lines string[]
---@param hl string
---@return table
local function virt_lines(bufnr, lines, hl)
  local tab = string.rep(" ", vim.bo[bufnr].tabstop)
  local width = math.max(vim.o.columns, 80)
  local out = {}
  for _, line in ipairs(lines) do
    local text = line:gsub("\t", tab)
    local pad = width - vim.api.nvim_strwidth(text)
    out[#out + 1] = { { text .. string.rep(" ", math.max(pad, 0)), hl } }
  end
  return out
end

--- Remove everything this module drew in `bufnr`.
---@param bufnr integer
function M.clear(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

---@class kimi.DrawnHunk
---@field index integer  1-based index into the proposal's edits
---@field mark integer   extmark spanning the hunk's rows (tracks them as lines move)

--- Draw one line hunk; returns the id of the extmark that spans its rows.
---@param bufnr integer
---@param hunk kimi.LineHunk
---@param label string|nil  shown at the end of the hunk's first row
---@param pending_tail boolean  the removed lines are not reached yet (streaming)
---@return integer
local function draw(bufnr, hunk, label, pending_tail)
  local count = vim.api.nvim_buf_line_count(bufnr)
  local added = virt_lines(bufnr, hunk.new, "KimiDiffAdd")
  local first = hunk.row
  local mark
  if #hunk.old > 0 then
    local last = hunk.row + #hunk.old - 1
    local hl = pending_tail and "KimiDiffPending" or "KimiDiffDelete"
    for row = first, last do
      vim.api.nvim_buf_set_extmark(bufnr, M.ns, row, 0, { line_hl_group = hl, priority = 200 })
    end
    mark = vim.api.nvim_buf_set_extmark(bufnr, M.ns, first, 0, { end_row = last, end_col = 0 })
    if #added > 0 then
      vim.api.nvim_buf_set_extmark(bufnr, M.ns, last, 0, { virt_lines = added })
    end
  elseif first < count then
    mark = vim.api.nvim_buf_set_extmark(bufnr, M.ns, first, 0, {
      end_row = first,
      end_col = 0,
      virt_lines = added,
      virt_lines_above = true,
    })
  else
    first = count - 1
    mark = vim.api.nvim_buf_set_extmark(bufnr, M.ns, first, 0, {
      end_row = first,
      end_col = 0,
      virt_lines = added,
    })
  end
  if label then
    vim.api.nvim_buf_set_extmark(bufnr, M.ns, math.min(hunk.row, count - 1), 0, {
      virt_text = { { label, "KimiHint" } },
      virt_text_pos = "eol",
    })
  end
  return mark
end

--- While the model writes: the proposal so far against the original lines of the range.
--- A removal that runs to the end of the range is shown as "not written yet", not as deleted.
---@param bufnr integer
---@param first_row integer  0-based row of the range's first line
---@param original string[]  the range's lines when the edit started
---@param text string        the proposed replacement of the range so far
function M.draw_stream(bufnr, first_row, original, text)
  M.clear(bufnr)
  local proposed = protocol.lines(text)
  local diff = vim.text and vim.text.diff or vim.diff
  local a = #original > 0 and table.concat(original, "\n") .. "\n" or ""
  local b = #proposed > 0 and table.concat(proposed, "\n") .. "\n" or ""
  local hunks = diff(a, b, { result_type = "indices" }) --[[@as integer[][] ]]
  for i, h in ipairs(hunks) do
    local start_a, count_a, start_b, count_b = h[1], h[2], h[3], h[4]
    local row = first_row + (count_a > 0 and start_a - 1 or start_a)
    local tail = i == #hunks and count_a > 0 and start_a + count_a - 1 == #original
    draw(bufnr, {
      row = row,
      old = vim.list_slice(original, start_a, start_a + count_a - 1),
      new = vim.list_slice(proposed, start_b, start_b + count_b - 1),
    }, nil, tail)
  end
  local row = math.min(first_row, vim.api.nvim_buf_line_count(bufnr) - 1)
  vim.api.nvim_buf_set_extmark(bufnr, M.ns, row, 0, {
    virt_text = { { "Kimi is writing…", "KimiHint" } },
    virt_text_pos = "eol",
  })
end

--- The final proposal: one drawn hunk per TextEdit still offered (`shown[i]` true).
---@param bufnr integer
---@param edits lsp.TextEdit[]
---@param shown table<integer, boolean>
---@param encoding string
---@param keys table<string, string|false>  the edit keymaps, for the labels
---@return kimi.DrawnHunk[]
function M.draw_hunks(bufnr, edits, shown, encoding, keys)
  M.clear(bufnr)
  local drawn = {}
  local total = #edits
  local hint = {}
  for _, pair in ipairs({
    { keys.accept_hunk, "accept" },
    { keys.reject_hunk, "reject" },
    { keys.accept_all, "accept all" },
    { keys.reject_all, "reject all" },
  }) do
    if pair[1] then
      hint[#hint + 1] = pair[1] .. " " .. pair[2]
    end
  end
  for i, edit in ipairs(edits) do
    if shown[i] then
      local hunk = protocol.line_hunk(bufnr, edit, encoding)
      local label = string.format("  Kimi %d/%d%s", i, total,
        #hint > 0 and (": " .. table.concat(hint, " · ")) or "")
      drawn[#drawn + 1] = { index = i, mark = draw(bufnr, hunk, label, false) }
    end
  end
  return drawn
end

--- The rows (0-based, inclusive) a drawn hunk spans now.
---@param bufnr integer
---@param hunk kimi.DrawnHunk
---@return integer|nil first
---@return integer|nil last
function M.rows(bufnr, hunk)
  local pos = vim.api.nvim_buf_get_extmark_by_id(bufnr, M.ns, hunk.mark, { details = true })
  if not pos or pos[1] == nil then
    return nil, nil
  end
  local details = pos[3] or {}
  return pos[1], details.end_row or pos[1]
end

return M
