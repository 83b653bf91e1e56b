--- Ghost text: textDocument/inlineCompletion while typing in insert mode, drawn with extmarks
--- (inline virtual text for the first line, virtual lines for the rest), accepted whole, by word
--- or by line, typed through without a new request, dismissed on a cursor move, on leaving
--- insert mode, on a completion menu or on typing that does not match.
local config = require("kimi.config")
local log = require("kimi.log")
local protocol = require("kimi.protocol")

local M = {}

M.ns = vim.api.nvim_create_namespace("kimi.ghost")
-- Where a suggestion started: left gravity, so typed-through text lands after it.
local anchors = vim.api.nvim_create_namespace("kimi.ghost.anchor")

local METHOD = "textDocument/inlineCompletion"

local function define_highlights()
  vim.api.nvim_set_hl(0, "KimiGhost", { link = "Comment", default = true })
end
define_highlights()
vim.api.nvim_create_autocmd("ColorScheme", {
  group = vim.api.nvim_create_augroup("kimi.ghost.hl", { clear = true }),
  callback = define_highlights,
})

---@class kimi.Ghost  a suggestion shown in a buffer
---@field anchor integer   extmark at the position the suggestion was made for
---@field text string      the suggestion, from the anchor
---@field suffix string    the line after the cursor when it was shown (must stay as it is)
---@field replace integer  bytes of that suffix the suggestion replaces (0: an insertion)
---@field rest string      what is still to insert at the cursor
---@field command table|nil  the item's command, run once accepted

---@class kimi.GhostBuffer
---@field client_id integer
---@field timer uv.uv_timer_t
---@field request_id integer|nil  the request in flight
---@field ghost kimi.Ghost|nil
---@field tick integer  changedtick when typing was last looked at
---@field cursor integer[]|nil  where the cursor was then (a move from there without a change dismisses)

---@type table<integer, kimi.GhostBuffer>
M.buffers = {}

--- Requests sent (for :KimiPredict and the tests).
M.sent = 0

local function enabled()
  local p = config.options.prediction
  return p.enabled and p.ghost_text
end

local function client_of(state)
  return state and vim.lsp.get_client_by_id(state.client_id)
end

--- Cancel the pending debounce and the request in flight.
---@param state kimi.GhostBuffer
local function cancel(state)
  state.timer:stop()
  local client = client_of(state)
  if state.request_id and client then
    client:cancel_request(state.request_id)
  end
  state.request_id = nil
end

--- Hide the suggestion of `bufnr` (and stop asking for one).
---@param bufnr integer
function M.dismiss(bufnr)
  local state = M.buffers[bufnr]
  if not state then
    return
  end
  cancel(state)
  state.ghost = nil
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
    vim.api.nvim_buf_clear_namespace(bufnr, anchors, 0, -1)
  end
end

--- Virtual text chunks for one line of the suggestion (tabs expanded: they would show as ^I).
local function chunk(bufnr, text)
  return { { (text:gsub("\t", string.rep(" ", vim.bo[bufnr].tabstop))), "KimiGhost" } }
end

--- Where the first line of a suggestion that rewrites the rest of the line goes: the rest is
--- made of closers (`)`, `"`, ...) the suggestion keeps in order, so its other characters are
--- shown around them: {byte offset after the cursor, text} pieces, or nil when they are not
--- all in it (then the whole line is shown at the cursor).
---@param first string  the suggestion's first line
---@param kept string   the rest of the line it rewrites
---@return {[1]: integer, [2]: string}[]|nil
local function around_closers(first, kept)
  local pieces, from = {}, 1
  for i = 1, #kept do
    local at = first:find(kept:sub(i, i), from, true)
    if not at then
      return nil
    end
    pieces[#pieces + 1] = { i - 1, first:sub(from, at - 1) }
    from = at + 1
  end
  pieces[#pieces + 1] = { #kept, first:sub(from) }
  return pieces
end

--- Draw `ghost.rest` at the cursor.
---@param bufnr integer
---@param ghost kimi.Ghost
local function draw(bufnr, ghost)
  vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  local cursor = vim.api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  local lines = vim.split(ghost.rest, "\n", { plain = true })
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  local pieces = ghost.replace > 0
    and around_closers(lines[1], line:sub(col + 1, col + ghost.replace))
    or { { 0, lines[1] } }
  for i, piece in ipairs(pieces) do
    local opts = { hl_mode = "combine", priority = 300 }
    if piece[2] ~= "" then
      opts.virt_text = chunk(bufnr, piece[2])
      opts.virt_text_pos = "inline"
    end
    if i == #pieces and #lines > 1 then
      opts.virt_lines = vim.tbl_map(function(text)
        return chunk(bufnr, text)
      end, vim.list_slice(lines, 2))
    end
    if opts.virt_text or opts.virt_lines then
      vim.api.nvim_buf_set_extmark(bufnr, M.ns, row, col + piece[1], opts)
    end
  end
end

--- What is left of the suggestion after what the user typed since it was shown, or nil when
--- the typing does not match it (or the cursor left it).
---@param bufnr integer
---@param ghost kimi.Ghost
---@return string|nil
local function remaining(bufnr, ghost)
  local pos = vim.api.nvim_buf_get_extmark_by_id(bufnr, anchors, ghost.anchor, {})
  if not pos[1] then
    return nil
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  if row < pos[1] or (row == pos[1] and col < pos[2]) then
    return nil
  end
  local ok, typed = pcall(vim.api.nvim_buf_get_text, bufnr, pos[1], pos[2], row, col, {})
  if not ok then
    return nil
  end
  local text = table.concat(typed, "\n")
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  if line:sub(col + 1) ~= ghost.suffix or ghost.text:sub(1, #text) ~= text then
    return nil
  end
  return ghost.text:sub(#text + 1)
end

--- The suggestion of an item as text to insert at the cursor (the part of its range before
--- the cursor already typed), and how many bytes after the cursor it replaces.
---@param bufnr integer
---@param item table
---@param encoding string
---@return string|nil text
---@return integer replace
local function at_cursor(bufnr, item, encoding)
  local text = item.insertText
  if type(text) == "table" then
    text = text.value -- a snippet string: shown and inserted as plain text
  end
  if type(text) ~= "string" or text == "" then
    return nil, 0
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  local range = item.range
  if type(range) ~= "table" then
    return text, 0
  end
  if range.start.line ~= row or range["end"].line ~= row then
    return nil, 0 -- multi-line replacements are not ghost text
  end
  local first = protocol.byte_col(line, range.start.character, encoding)
  local last = protocol.byte_col(line, range["end"].character, encoding)
  if first > col or last < col then
    return nil, 0
  end
  local typed = line:sub(first + 1, col)
  if text:sub(1, #typed) ~= typed then
    return nil, 0
  end
  return text:sub(#typed + 1), last - col
end

--- Show the first usable item of an inlineCompletion result, if the buffer and cursor are
--- still where the request was made.
local function show(bufnr, state, result, asked)
  local items = type(result) == "table" and (result.items or result) or {}
  local client = client_of(state)
  if not client or vim.api.nvim_get_current_buf() ~= bufnr
    or vim.api.nvim_get_mode().mode:sub(1, 1) ~= "i" or vim.fn.pumvisible() == 1
    or vim.b[bufnr].changedtick ~= asked.tick
    or not vim.deep_equal(vim.api.nvim_win_get_cursor(0), asked.cursor) then
    return
  end
  for _, item in ipairs(items) do
    local text, replace = at_cursor(bufnr, item, client.offset_encoding)
    if text and vim.trim(text) ~= "" then
      local row, col = asked.cursor[1] - 1, asked.cursor[2]
      local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
      vim.api.nvim_buf_clear_namespace(bufnr, anchors, 0, -1)
      state.ghost = {
        anchor = vim.api.nvim_buf_set_extmark(bufnr, anchors, row, col, { right_gravity = false }),
        text = text,
        rest = text,
        suffix = line:sub(col + 1),
        replace = replace,
        command = item.command,
      }
      state.tick, state.cursor = asked.tick, asked.cursor
      draw(bufnr, state.ghost)
      return
    end
  end
end

--- Ask for a suggestion at the cursor now.
---@param bufnr integer
function M.request(bufnr)
  local state = M.buffers[bufnr]
  local client = client_of(state)
  if not state or not client or not enabled() or vim.api.nvim_get_current_buf() ~= bufnr
    or vim.api.nvim_get_mode().mode:sub(1, 1) ~= "i" or vim.fn.pumvisible() == 1 then
    return
  end
  cancel(state)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding) --[[@as table]]
  params.context = { triggerKind = 2 } -- automatic: while typing
  local asked = { tick = vim.b[bufnr].changedtick, cursor = vim.api.nvim_win_get_cursor(0) }
  local id
  local ok, sent = client:request(METHOD, params, function(err, result)
    if state.request_id ~= id then
      return -- superseded or cancelled
    end
    state.request_id = nil
    if err then
      log.write("debug", "inlineCompletion: " .. tostring(err.message))
      return
    end
    show(bufnr, state, result, asked)
  end, bufnr)
  if ok then
    id = sent
    state.request_id = sent
    M.sent = M.sent + 1
  end
end

--- Ask for a suggestion once typing pauses for prediction.debounce_ms.
---@param bufnr integer
local function schedule(bufnr)
  local state = M.buffers[bufnr]
  cancel(state)
  state.timer:start(config.options.prediction.debounce_ms, 0, vim.schedule_wrap(function()
    if M.buffers[bufnr] == state then
      M.request(bufnr)
    end
  end))
end

--- TextChangedI: typed through (shrink the suggestion), or something else (ask again).
---@param bufnr integer
function M.on_typed(bufnr)
  local state = M.buffers[bufnr]
  if not state then
    return
  end
  state.tick, state.cursor = vim.b[bufnr].changedtick, vim.api.nvim_win_get_cursor(0)
  local ghost = state.ghost
  if ghost then
    local rest = remaining(bufnr, ghost)
    if rest and rest ~= "" then
      ghost.rest = rest
      draw(bufnr, ghost)
      return
    end
    M.dismiss(bufnr)
  end
  if enabled() then
    schedule(bufnr)
  end
end

--- CursorMovedI: a move without a change (arrows, a click) dismisses; typing is handled by
--- TextChangedI, which follows. (CursorMovedI can also come late for the last keystroke, e.g.
--- when an RPC call wakes insert mode: the cursor is then where typing left it.)
---@param bufnr integer
function M.on_moved(bufnr)
  local state = M.buffers[bufnr]
  if state and vim.b[bufnr].changedtick == state.tick
    and not vim.deep_equal(vim.api.nvim_win_get_cursor(0), state.cursor) then
    M.dismiss(bufnr)
  end
end

--- The next word of `rest` (with the blanks or line break before it), or its next character.
local function word_of(rest)
  return rest:match("^%s*[%w_]+") or rest:match("^%s*[^%w_%s]+") or rest:sub(1, 1)
end

--- The rest of the suggestion's current line; at a line break, the break and the next line.
local function line_of(rest)
  if rest:sub(1, 1) == "\n" then
    return "\n" .. (rest:sub(2):match("^[^\n]*") or "")
  end
  return rest:match("^[^\n]*")
end

--- Insert `text` at the cursor, replacing `replace` bytes after it, and put the cursor after it.
local function insert(bufnr, text, replace)
  local cursor = vim.api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  local lines = vim.split(text, "\n", { plain = true })
  vim.api.nvim_buf_set_text(bufnr, row, col, row, col + replace, lines)
  local last_row = row + #lines - 1
  local last_col = (#lines == 1 and col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { last_row + 1, last_col })
end

--- Accept all of the suggestion shown in the current buffer, its next word or its line.
---@param what "all"|"word"|"line"
---@return boolean accepted  false when no suggestion is shown
function M.accept(what)
  local bufnr = vim.api.nvim_get_current_buf()
  local state = M.buffers[bufnr]
  local ghost = state and state.ghost
  if not ghost then
    return false
  end
  local rest = remaining(bufnr, ghost)
  if not rest or rest == "" then
    M.dismiss(bufnr)
    return false
  end
  local piece = what == "word" and word_of(rest) or what == "line" and line_of(rest) or rest
  if piece ~= rest then
    -- The typed-through check on TextChangedI shrinks the suggestion by what was inserted.
    insert(bufnr, piece, 0)
    return true
  end
  local client = client_of(state)
  M.dismiss(bufnr)
  insert(bufnr, rest, ghost.replace)
  if ghost.command and client then
    client:exec_cmd(ghost.command, { bufnr = bufnr })
  end
  return true
end

--- Whether ghost text is shown, asked for or about to be asked for in `bufnr`.
---@param bufnr integer
---@return boolean
function M.busy(bufnr)
  local state = M.buffers[bufnr]
  return state ~= nil and (state.ghost ~= nil or state.request_id ~= nil
    or state.timer:is_active())
end

--- Whether a suggestion is shown in `bufnr` (what it still would insert).
---@param bufnr? integer
---@return string|nil
function M.shown(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local state = M.buffers[bufnr]
  return state and state.ghost and state.ghost.rest or nil
end

local group = vim.api.nvim_create_augroup("kimi.predict.ghost", { clear = true })

--- Start ghost text in `bufnr` for `client`.
---@param bufnr integer
---@param client vim.lsp.Client
function M.attach(bufnr, client)
  M.buffers[bufnr] = {
    client_id = client.id,
    timer = assert(vim.uv.new_timer()),
    tick = vim.b[bufnr].changedtick,
  }
  local function on(event, fn)
    vim.api.nvim_create_autocmd(event, {
      group = group,
      buffer = bufnr,
      callback = function()
        fn(bufnr)
      end,
    })
  end
  on("TextChangedI", M.on_typed)
  on("CursorMovedI", M.on_moved)
  on({ "InsertLeave", "BufLeave", "CompleteChanged" }, M.dismiss)
end

--- Stop ghost text in `bufnr`.
---@param bufnr integer
function M.detach(bufnr)
  local state = M.buffers[bufnr]
  if not state then
    return
  end
  M.dismiss(bufnr)
  state.timer:close()
  M.buffers[bufnr] = nil
  pcall(vim.api.nvim_clear_autocmds, { group = group, buffer = bufnr })
end

return M
