--- `:'<,'>KimiEdit {instruction}`: a kimi/inlineEdit in preview mode, streamed into the buffer
--- as a diff, then accepted or rejected hunk by hunk (kimi/acceptEdit, kimi/rejectEdit).
local config = require("kimi.config")
local log = require("kimi.log")
local preview = require("kimi.preview")
local protocol = require("kimi.protocol")

local M = {}

---@class kimi.EditState
---@field bufnr integer
---@field client_id integer
---@field request_id integer|nil  while the model writes
---@field first_row integer       0-based first row of the range when the edit started
---@field anchor integer          extmark at the range's start: follows lines added above it
---@field anchor_row integer      where the anchor was put
---@field original string[]       the range's lines when the edit started
---@field edit_id string|nil
---@field edits lsp.TextEdit[]|nil  the result's hunks, against the snapshot
---@field shown table<integer, boolean>  hunks still offered (reject_hunk hides one)
---@field drawn kimi.DrawnHunk[]
---@field accepted table<integer, boolean>|nil  hunks the server applied already
---@field busy boolean            an accept/reject is on its way
---@field saved_maps table[]      the buffer's own mappings our keymaps shadow

---@type table<integer, kimi.EditState>
M.states = {}

--- Result codes (the server's `code` beside its `reason` sentence) meaning it no longer holds
--- the edit: unknown or finished, expired, or its document was closed.
local FORGOTTEN = { not_pending = true, expired = true, document_closed = true }

--- Whether a kimi/acceptEdit or kimi/rejectEdit result says the server forgot the edit.
---@param result any
---@return boolean
function M.server_forgot(result)
  return type(result) == "table" and not result.applied and FORGOTTEN[result.code] == true
end

---@param uri string
---@return kimi.EditState|nil
local function state_for_uri(uri)
  for bufnr, state in pairs(M.states) do
    if vim.api.nvim_buf_is_valid(bufnr) and vim.uri_from_bufnr(bufnr) == uri then
      return state
    end
  end
  return nil
end

local anchors = vim.api.nvim_create_namespace("kimi.edit.anchor")

--- How many rows the range moved since the edit started (the user typed above it).
local function shift(state)
  local pos = vim.api.nvim_buf_get_extmark_by_id(state.bufnr, anchors, state.anchor, {})
  return pos[1] and (pos[1] - state.anchor_row) or 0
end

--- The result's edits (against the snapshot) moved down by `shift` rows.
local function shifted(edits, rows)
  if rows == 0 then
    return edits
  end
  return vim.tbl_map(function(edit)
    local moved = vim.deepcopy(edit)
    moved.range.start.line = moved.range.start.line + rows
    moved.range["end"].line = moved.range["end"].line + rows
    return moved
  end, edits)
end

local function client_of(state)
  return vim.lsp.get_client_by_id(state.client_id)
end

local KEY_ACTIONS = { "accept_hunk", "reject_hunk", "accept_all", "reject_all" }

local function map_keys(state)
  local keys = config.options.keymaps.edit
  state.saved_maps = {}
  for _, action in ipairs(KEY_ACTIONS) do
    local lhs = keys[action]
    if lhs then
      local saved = vim.fn.maparg(lhs, "n", false, true)
      if saved.buffer == 1 then
        state.saved_maps[#state.saved_maps + 1] = saved
      end
      vim.keymap.set("n", lhs, function()
        M[action](state.bufnr)
      end, { buffer = state.bufnr, desc = "Kimi: " .. action:gsub("_", " ") })
    end
  end
end

local function unmap_keys(state)
  local keys = config.options.keymaps.edit
  for _, action in ipairs(KEY_ACTIONS) do
    local lhs = keys[action]
    if lhs then
      pcall(vim.keymap.del, "n", lhs, { buffer = state.bufnr })
    end
  end
  for _, saved in ipairs(state.saved_maps or {}) do
    vim.api.nvim_buf_call(state.bufnr, function()
      vim.fn.mapset("n", false, saved)
    end)
  end
end

--- Forget the proposal in `bufnr` and erase its drawing (the server is told separately).
---@param bufnr integer
function M.clear(bufnr)
  local state = M.states[bufnr]
  M.states[bufnr] = nil
  preview.clear(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, anchors, 0, -1)
  end
  if state and state.edits then
    unmap_keys(state)
  end
end

local function redraw(state)
  local client = client_of(state)
  local encoding = client and client.offset_encoding or "utf-16"
  local edits = shifted(state.edits, shift(state))
  state.drawn = preview.draw_hunks(state.bufnr, edits, state.shown, encoding,
    config.options.keymaps.edit)
end

local function on_result(state, result, err)
  if not state.request_id then
    return -- stopped meanwhile
  end
  state.request_id = nil
  require("kimi.status").busy(-1)
  if M.states[state.bufnr] ~= state then
    return
  end
  if err or type(result) ~= "table" then
    M.clear(state.bufnr)
    return
  end
  state.edit_id = result.editId
  state.edits = result.edits or {}
  if #state.edits == 0 then
    M.clear(state.bufnr)
    local client = client_of(state)
    if client then
      require("kimi.lsp").request(client, "kimi/rejectEdit", { editId = state.edit_id },
        function() end)
    end
    log.notify("the proposal changes nothing.", "info")
    return
  end
  state.shown = {}
  for i = 1, #state.edits do
    state.shown[i] = true
  end
  redraw(state)
  map_keys(state)
end

--- Start an edit of `range` (LSP range) in `bufnr`, shown as a preview.
---@param bufnr integer
---@param range lsp.Range
---@param instruction string
function M.start(bufnr, range, instruction)
  if bufnr == 0 then
    bufnr = vim.api.nvim_get_current_buf()
  end
  instruction = vim.trim(instruction or "")
  if instruction == "" then
    log.notify("say what to change: :KimiEdit {instruction}", "warn")
    return
  end
  if M.states[bufnr] then
    M.reject_all(bufnr)
  end
  local lsp = require("kimi.lsp")
  lsp.with_client(bufnr, true, function(client)
    require("kimi.definitions").around(bufnr, range, nil, function(definitions)
      if not vim.api.nvim_buf_is_valid(bufnr) then
        return
      end
      local last = math.max(range["end"].line - (range["end"].character == 0 and 1 or 0),
        range.start.line)
      local anchor_row = math.min(range.start.line, vim.api.nvim_buf_line_count(bufnr) - 1)
      ---@type kimi.EditState
      local state = {
        bufnr = bufnr,
        client_id = client.id,
        first_row = range.start.line,
        original = vim.api.nvim_buf_get_lines(bufnr, range.start.line, last + 1, false),
        anchor = vim.api.nvim_buf_set_extmark(bufnr, anchors, anchor_row, 0, {}),
        anchor_row = anchor_row,
        shown = {},
        drawn = {},
        busy = false,
        saved_maps = {},
      }
      M.states[bufnr] = state
      require("kimi.status").busy(1)
      state.request_id = lsp.request(client, "kimi/inlineEdit", {
        textDocument = { uri = protocol.uri(bufnr) },
        range = range,
        instruction = instruction,
        mode = "preview",
        definitions = #definitions > 0 and definitions or nil,
      }, function(result, err)
        on_result(state, result, err)
      end, bufnr)
      if not state.request_id then
        require("kimi.status").busy(-1)
        M.clear(bufnr)
      end
    end)
  end)
end

--- :[range]KimiEdit {instruction}
---@param opts table  the user command's opts
function M.command(opts)
  local bufnr = vim.api.nvim_get_current_buf()
  local first, last = opts.line1, opts.line2
  if opts.range == 0 then
    first = vim.api.nvim_win_get_cursor(0)[1]
    last = first
  end
  local range = protocol.line_range(first, last)
  if opts.args ~= "" then
    M.start(bufnr, range, opts.args)
    return
  end
  vim.ui.input({ prompt = "Kimi edit: " }, function(instruction)
    if instruction then
      M.start(bufnr, range, instruction)
    end
  end)
end

--- kimi/editPreview: the full proposed replacement so far.
function M.on_preview(_, params)
  if type(params) ~= "table" then
    return
  end
  local state = state_for_uri(params.uri)
  if not state or state.edits or (state.edit_id and state.edit_id ~= params.editId) then
    return
  end
  state.edit_id = params.editId
  local first_row = state.first_row + shift(state)
  preview.draw_stream(state.bufnr, first_row, state.original, params.text or "")
end

--- kimi/editDropped: the user changed the proposal's lines, the server forgot it.
function M.on_dropped(_, params)
  if type(params) ~= "table" then
    return
  end
  local state = state_for_uri(params.uri)
  if not state or state.edit_id ~= params.editId or state.busy then
    return
  end
  M.clear(state.bufnr)
  log.notify(params.reason or "the proposal was dropped.", "warn")
end

--- The offered hunk at the cursor (or within a line of it: insertions sit between lines).
---@param state kimi.EditState
---@return integer|nil index  1-based, into the result's edits
local function hunk_at_cursor(state)
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local best, distance = nil, math.huge
  for _, hunk in ipairs(state.drawn) do
    local first, last = preview.rows(state.bufnr, hunk)
    if first then
      local d = row < first and first - row or (row > last and row - last or 0)
      if d < distance then
        best, distance = hunk.index, d
      end
    end
  end
  return distance <= 1 and best or nil
end

local function ready(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local state = M.states[bufnr]
  if not state then
    log.notify("no Kimi proposal in this buffer.", "warn")
    return nil
  end
  if not state.edits then
    log.notify("Kimi is still writing: wait for the proposal (or :KimiStop).", "warn")
    return nil
  end
  if state.busy then
    return nil
  end
  return state
end

--- The hunks still offered, as 0-based indices for kimi/acceptEdit.
local function offered(state)
  local hunks = {}
  for i = 1, #state.edits do
    if state.shown[i] then
      hunks[#hunks + 1] = i - 1
    end
  end
  return hunks
end

--- After the server applied some hunks: the others moved with the text (their extmarks
--- followed it). Re-anchor the remaining edits where they are now and draw them again.
---@param state kimi.EditState
---@param before table<integer, integer>  each drawn hunk's first row before the apply
local function rebase(state, before)
  local base = shifted(state.edits, shift(state))
  local moved = {}
  for i, edit in ipairs(base) do
    local delta = 0
    if state.shown[i] then
      for _, hunk in ipairs(state.drawn) do
        if hunk.index == i and before[i] then
          local first = preview.rows(state.bufnr, hunk)
          delta = first and (first - before[i]) or 0
        end
      end
    end
    moved[i] = shifted({ edit }, delta)[1]
  end
  state.edits = moved
  local pos = vim.api.nvim_buf_get_extmark_by_id(state.bufnr, anchors, state.anchor, {})
  state.anchor_row = pos[1] or state.anchor_row -- the edits are where they are now
  redraw(state)
end

---@param state kimi.EditState
---@param hunks integer[]  0-based indices (the server keeps the others pending)
---@param done fun()|nil
local function accept(state, hunks, done)
  local client = client_of(state)
  if not client then
    M.clear(state.bufnr)
    return
  end
  local before = {}
  for _, hunk in ipairs(state.drawn) do
    before[hunk.index] = preview.rows(state.bufnr, hunk)
  end
  state.busy = true
  local params = { editId = state.edit_id, hunks = hunks }
  require("kimi.lsp").request(client, "kimi/acceptEdit", params, function(result, err)
    state.busy = false
    if err or M.states[state.bufnr] ~= state then
      return
    end
    if type(result) == "table" and result.applied then
      state.accepted = state.accepted or {}
      for _, i in ipairs(hunks) do
        state.shown[i + 1] = false
        state.accepted[i + 1] = true
      end
      if #offered(state) == 0 then
        M.clear(state.bufnr)
        if vim.tbl_count(state.accepted) < #state.edits then
          -- Hunks dropped with reject_hunk are still pending on the server: let it forget them.
          require("kimi.lsp").request(client, "kimi/rejectEdit", { editId = state.edit_id },
            function() end)
        end
      else
        rebase(state, before)
      end
      if done then
        done()
      end
      return
    end
    local reason = type(result) == "table" and result.reason or "the edit was not applied"
    log.notify("not applied: " .. tostring(reason), "warn")
    if M.server_forgot(result) then
      M.clear(state.bufnr)
    end
  end, state.bufnr)
end

--- The preview state and the (1-based) hunk under the cursor, or nil after telling the user.
---@param bufnr? integer
---@return table|nil, integer|nil
local function hunk_under_cursor(bufnr)
  local state = ready(bufnr)
  if not state then
    return nil, nil
  end
  local index = hunk_at_cursor(state)
  if not index then
    log.notify("no Kimi hunk under the cursor.", "warn")
    return nil, nil
  end
  return state, index
end

--- Accept the hunk under the cursor. The other hunks stay offered (and pending on the
--- server under their original indices).
---@param bufnr? integer
function M.accept_hunk(bufnr)
  local state, index = hunk_under_cursor(bufnr)
  if state then
    accept(state, { index - 1 })
  end
end

--- Accept every hunk still offered.
---@param bufnr? integer
function M.accept_all(bufnr)
  local state = ready(bufnr)
  if not state then
    return
  end
  accept(state, offered(state))
end

--- Stop offering the hunk under the cursor (the rest stay pending).
---@param bufnr? integer
function M.reject_hunk(bufnr)
  local state, index = hunk_under_cursor(bufnr)
  if not state then
    return
  end
  state.shown[index] = false
  if not vim.tbl_contains(vim.tbl_values(state.shown), true) then
    M.reject_all(state.bufnr)
    return
  end
  redraw(state)
end

--- Reject the proposal (or stop it while the model is still writing).
---@param bufnr? integer
function M.reject_all(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local state = M.states[bufnr]
  if not state then
    log.notify("no Kimi proposal in this buffer.", "warn")
    return
  end
  local client = client_of(state)
  M.clear(bufnr)
  if not client then
    return
  end
  local lsp = require("kimi.lsp")
  if state.request_id then
    lsp.cancel(client, state.request_id)
    state.request_id = nil
    require("kimi.status").busy(-1)
  elseif state.edit_id then
    lsp.request(client, "kimi/rejectEdit", { editId = state.edit_id }, function() end)
  end
end

--- Stop every edit still being written (for :KimiStop).
---@return integer stopped
function M.stop_all()
  local stopped = 0
  for bufnr, state in pairs(M.states) do
    if state.request_id then
      M.reject_all(bufnr)
      stopped = stopped + 1
    end
  end
  return stopped
end

return M
