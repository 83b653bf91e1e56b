--- Protocol helpers: LSP positions and ranges in the negotiated encoding, and TextEdits seen
--- as whole-line hunks (what the preview draws).
local M = {}

---@class kimi.LineHunk
---@field row integer        0-based buffer row where the change starts
---@field old string[]       the buffer lines it replaces (may be empty: a pure insertion)
---@field new string[]       the lines it puts there (may be empty: a pure deletion)

--- Byte column of an LSP `character` in `line`, clamped to the line.
---@param line string
---@param character integer
---@param encoding string  "utf-8" | "utf-16" | "utf-32"
---@return integer
function M.byte_col(line, character, encoding)
  if character <= 0 then
    return 0
  end
  if encoding == "utf-8" then
    return math.min(character, #line)
  end
  local ok, col
  if vim.fn.has("nvim-0.11") == 1 then
    ok, col = pcall(vim.str_byteindex, line, encoding, character, false)
  else
    ok, col = pcall(vim.str_byteindex, line, character, encoding == "utf-16")
  end
  if not ok or type(col) ~= "number" then
    return #line
  end
  return math.min(col, #line)
end

--- The LSP URI of a buffer.
---@param bufnr integer
---@return string
function M.uri(bufnr)
  return vim.uri_from_bufnr(bufnr)
end

--- A range covering whole lines `first`..`last` (1-based, inclusive), line break included.
---@param first integer
---@param last integer
---@return lsp.Range
function M.line_range(first, last)
  return {
    start = { line = first - 1, character = 0 },
    ["end"] = { line = last, character = 0 },
  }
end

--- Split text into lines; a final line break does not make an extra empty line.
---@param text string
---@return string[]
function M.lines(text)
  if text == "" then
    return {}
  end
  local lines = vim.split(text, "\n", { plain = true })
  if lines[#lines] == "" then
    table.remove(lines)
  end
  return lines
end

--- One TextEdit as a whole-line hunk against the buffer's current lines: the lines the edit
--- touches, before and after, with the lines that stay the same trimmed off both ends.
---@param bufnr integer
---@param edit lsp.TextEdit
---@param encoding string
---@return kimi.LineHunk
function M.line_hunk(bufnr, edit, encoding)
  local start, finish = edit.range.start, edit.range["end"]
  local count = vim.api.nvim_buf_line_count(bufnr)
  local old, block, start_off, end_off
  if start.line >= count then
    old, block, start_off, end_off = {}, "", 0, 0
  else
    local last = math.min(finish.line, count - 1)
    old = vim.api.nvim_buf_get_lines(bufnr, start.line, last + 1, false)
    block = table.concat(old, "\n") .. "\n"
    start_off = M.byte_col(old[1], start.character, encoding)
    if finish.line >= count then
      end_off = #block
    else
      end_off = #block - #old[#old] - 1 + M.byte_col(old[#old], finish.character, encoding)
    end
  end
  local new = M.lines(block:sub(1, start_off) .. edit.newText .. block:sub(end_off + 1))
  local head = 0
  while head < #old and head < #new and old[head + 1] == new[head + 1] do
    head = head + 1
  end
  local tail = 0
  while
    tail < #old - head
    and tail < #new - head
    and old[#old - tail] == new[#new - tail]
  do
    tail = tail + 1
  end
  return {
    row = start.line + head,
    old = vim.list_slice(old, head + 1, #old - tail),
    new = vim.list_slice(new, head + 1, #new - tail),
  }
end

--- Money for people: "$0.0012" for USD, "0.0012 CNY" otherwise.
---@param cost number|nil
---@param currency string|nil
---@return string
function M.money(cost, currency)
  cost = tonumber(cost) or 0
  if currency == nil or currency == "USD" then
    return string.format("$%.4f", cost)
  end
  return string.format("%.4f %s", cost, currency)
end

--- "12,345"
---@param n number|nil
---@return string
function M.count(n)
  local text = tostring(math.floor(tonumber(n) or 0))
  local out = text:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end

return M
