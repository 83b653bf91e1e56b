--- Next-edit suggestions: kimi/nextEdit after an edit pause (or :KimiNextEdit), shown with the
--- inline-edit diff preview, accepted or rejected hunk by hunk (applied here, only while the
--- buffer is at the version they were made for), with a key to jump to the next one; every
--- suggestion's outcome goes back to the server (kimi/nextEditOutcome).
local config = require("kimi.config")
local keys = require("kimi.predict.keys")
local log = require("kimi.log")
local preview = require("kimi.preview")
local protocol = require("kimi.protocol")

local M = {}

---@class kimi.NextEdit  protocol.md's next edit, its range moved with our own applies
---@field id string
---@field text string
---@field range lsp.Range

---@class kimi.NextEditBuffer
---@field client_id integer
---@field timer uv.uv_timer_t
---@field request_id integer|nil
---@field version integer|nil  the buffer version the shown edits' ranges are against
---@field edits kimi.NextEdit[]|nil  the suggestion shown
---@field shown table<integer, boolean>
---@field drawn kimi.DrawnHunk[]
---@field maps kimi.SavedKey[]
---@field entered integer|nil  changedtick when insert mode was entered

---@type table<integer, kimi.NextEditBuffer>
M.buffers = {}

--- Requests sent (for the tests).
M.sent = 0

local function enabled()
  local p = config.options.prediction
  return p.enabled and p.next_edit
end

local function client_of(state)
  return state and vim.lsp.get_client_by_id(state.client_id)
end

local function version(bufnr)
  return vim.lsp.util.buf_versions[bufnr]
end

--- An inline edit (:KimiEdit) owns the preview of its buffer while it lasts.
local function edit_in_progress(bufnr)
  local edit = package.loaded["kimi.edit"]
  return edit ~= nil and edit.states[bufnr] ~= nil
end

---@param state kimi.NextEditBuffer
---@param id string
---@param outcome "accepted"|"rejected"|"ignored"
local function tell(state, id, outcome)
  local client = client_of(state)
  if client then
    client:notify("kimi/nextEditOutcome", { id = id, outcome = outcome })
  end
end

--- Stop showing the suggestion; the hunks still shown get `outcome`.
---@param bufnr integer
---@param outcome "rejected"|"ignored"
function M.clear(bufnr, outcome)
  local state = M.buffers[bufnr]
  if not state or not state.edits then
    return
  end
  for i, edit in ipairs(state.edits) do
    if state.shown[i] then
      tell(state, edit.id, outcome)
    end
  end
  state.edits, state.shown, state.drawn, state.version = nil, {}, {}, nil
  if not edit_in_progress(bufnr) then
    preview.clear(bufnr)
  end
  keys.unmap(bufnr, state.maps)
  state.maps = {}
end

local function encoding(state)
  local client = client_of(state)
  return client and client.offset_encoding or "utf-16"
end

local function redraw(bufnr, state)
  local edits = vim.tbl_map(function(edit)
    return { range = edit.range, newText = edit.text }
  end, state.edits)
  state.drawn = preview.draw_hunks(bufnr, edits, state.shown, encoding(state),
    config.options.keymaps.edit)
end

--- The shown hunks' first rows now (their extmarks follow the text).
local function rows_now(bufnr, state)
  local rows = {}
  for _, hunk in ipairs(state.drawn) do
    rows[hunk.index] = preview.rows(bufnr, hunk)
  end
  return rows
end

--- After our own change: move the hunks still shown by as many rows as their marks moved,
--- take the new version as theirs and draw them again (or finish when none is left).
local function rebase(bufnr, state, before)
  local after = rows_now(bufnr, state)
  for i, edit in ipairs(state.edits) do
    if state.shown[i] and before[i] and after[i] then
      local delta = after[i] - before[i]
      edit.range.start.line = edit.range.start.line + delta
      edit.range["end"].line = edit.range["end"].line + delta
    end
  end
  state.version = version(bufnr)
  if not vim.tbl_contains(vim.tbl_values(state.shown), true) then
    M.clear(bufnr, "ignored") -- nothing left to tell
    return
  end
  redraw(bufnr, state)
end

--- The suggestion in `bufnr` when it still applies; dropped (as ignored) when the buffer moved on.
local function ready(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local state = M.buffers[bufnr]
  if not state or not state.edits then
    return nil, bufnr
  end
  if version(bufnr) ~= state.version then
    M.clear(bufnr, "ignored")
    log.notify("the buffer changed since this edit was suggested.", "warn")
    return nil, bufnr
  end
  return state, bufnr
end

--- The shown hunk at the cursor (or within a line of it).
local function at_cursor(bufnr, state)
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local best, distance = nil, math.huge
  for _, hunk in ipairs(state.drawn) do
    local first, last = preview.rows(bufnr, hunk)
    if first and state.shown[hunk.index] then
      local d = row < first and first - row or (row > last and row - last or 0)
      if d < distance then
        best, distance = hunk.index, d
      end
    end
  end
  return distance <= 1 and best or nil
end

--- Apply the shown hunks `indices` (1-based) and tell the server they were accepted.
local function apply(bufnr, state, indices)
  local before = rows_now(bufnr, state)
  local edits = {}
  for _, i in ipairs(indices) do
    local edit = state.edits[i]
    edits[#edits + 1] = { range = vim.deepcopy(edit.range), newText = edit.text }
    state.shown[i] = false
  end
  vim.lsp.util.apply_text_edits(edits, bufnr, encoding(state))
  for _, i in ipairs(indices) do
    tell(state, state.edits[i].id, "accepted")
  end
  rebase(bufnr, state, before)
end

--- Accept the suggested hunk under the cursor.
---@param bufnr? integer
---@return boolean
function M.accept_hunk(bufnr)
  local state
  state, bufnr = ready(bufnr)
  local index = state and at_cursor(bufnr, state)
  if not state or not index then
    return false
  end
  apply(bufnr, state, { index })
  return true
end

--- Accept every hunk still shown.
---@param bufnr? integer
---@return boolean
function M.accept_all(bufnr)
  local state
  state, bufnr = ready(bufnr)
  if not state then
    return false
  end
  local indices = {}
  for i = 1, #state.edits do
    if state.shown[i] then
      indices[#indices + 1] = i
    end
  end
  apply(bufnr, state, indices)
  return true
end

--- Reject the suggested hunk under the cursor (the server will not suggest it again).
---@param bufnr? integer
---@return boolean
function M.reject_hunk(bufnr)
  local state
  state, bufnr = ready(bufnr)
  local index = state and at_cursor(bufnr, state)
  if not state or not index then
    return false
  end
  state.shown[index] = false
  tell(state, state.edits[index].id, "rejected")
  if not vim.tbl_contains(vim.tbl_values(state.shown), true) then
    M.clear(bufnr, "rejected")
  else
    redraw(bufnr, state)
  end
  return true
end

--- Reject every hunk still shown.
---@param bufnr? integer
---@return boolean
function M.reject_all(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local state = M.buffers[bufnr]
  if not state or not state.edits then
    return false
  end
  M.clear(bufnr, "rejected")
  return true
end

--- Move the cursor to the next suggested hunk after it (wrapping to the first).
---@param bufnr? integer
---@return boolean
function M.jump(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local state = M.buffers[bufnr]
  if not state or not state.edits then
    return false
  end
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local first_after, first_any
  for _, hunk in ipairs(state.drawn) do
    local first = preview.rows(bufnr, hunk)
    if first and state.shown[hunk.index] then
      local target = { first, hunk.index }
      if first > row and (not first_after or first < first_after[1]) then
        first_after = target
      end
      if not first_any or first < first_any[1] then
        first_any = target
      end
    end
  end
  local target = first_after or first_any
  if not target then
    return false
  end
  local edit = state.edits[target[2]]
  local line = vim.api.nvim_buf_get_lines(bufnr, target[1], target[1] + 1, false)[1] or ""
  local col = edit.range.start.line == target[1]
    and protocol.byte_col(line, edit.range.start.character, encoding(state)) or 0
  vim.api.nvim_win_set_cursor(0, { target[1] + 1, math.min(col, math.max(#line - 1, 0)) })
  return true
end

local function map_keys(bufnr, state)
  local edit_keys = config.options.keymaps.edit
  local actions = {
    { edit_keys.accept_hunk, M.accept_hunk, "accept the suggested edit" },
    { edit_keys.reject_hunk, M.reject_hunk, "reject the suggested edit" },
    { edit_keys.accept_all, M.accept_all, "accept every suggested edit" },
    { edit_keys.reject_all, M.reject_all, "reject the suggested edits" },
    { config.options.prediction.keys.next, M.jump, "jump to the next suggested edit" },
  }
  state.maps = {}
  for _, a in ipairs(actions) do
    local saved = keys.map(bufnr, "n", a[1], function()
      return a[2](bufnr)
    end, a[3])
    state.maps[#state.maps + 1] = saved
  end
end

--- Show a kimi/nextEdit result if it is still for the buffer as it is.
local function show(bufnr, state, result, asked, manual)
  local edits = type(result) == "table" and result.edits or {}
  local current = version(bufnr)
  local usable = {}
  for _, edit in ipairs(edits) do
    local doc = edit.textDocument or {}
    if doc.version == asked and doc.version == current and type(edit.text) == "string" then
      usable[#usable + 1] = { id = edit.id, text = edit.text, range = vim.deepcopy(edit.range) }
    else
      tell(state, edit.id, "ignored")
    end
  end
  if #usable == 0 or edit_in_progress(bufnr) or state.edits then
    for _, edit in ipairs(usable) do
      tell(state, edit.id, "ignored")
    end
    if manual and #usable == 0 then
      log.notify("no next edit to suggest here.", "info")
    end
    return
  end
  state.edits, state.version, state.shown = usable, current, {}
  for i = 1, #usable do
    state.shown[i] = true
  end
  redraw(bufnr, state)
  map_keys(bufnr, state)
end

--- Ask for next edits at the cursor now (`manual`: :KimiNextEdit, says when there are none).
---@param bufnr? integer
---@param manual? boolean
function M.request(bufnr, manual)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local state = M.buffers[bufnr]
  local client = client_of(state)
  if not state or not client then
    if manual then
      log.notify("Kimi is not attached to this buffer.", "warn")
    end
    return
  end
  if not manual and (not enabled() or vim.api.nvim_get_current_buf() ~= bufnr) then
    return
  end
  state.timer:stop()
  if state.request_id then
    client:cancel_request(state.request_id)
    state.request_id = nil
  end
  M.clear(bufnr, "ignored")
  local win = vim.fn.bufwinid(bufnr)
  local params = vim.lsp.util.make_position_params(win ~= -1 and win or 0, client.offset_encoding)
  local asked = version(bufnr)
  local id
  local ok, sent = client:request("kimi/nextEdit", {
    textDocument = { uri = protocol.uri(bufnr), version = asked },
    position = params.position,
  }, function(err, result)
    if state.request_id ~= id then
      return
    end
    state.request_id = nil
    if err then
      log.write("debug", "nextEdit: " .. tostring(err.message))
      return
    end
    show(bufnr, state, result, asked, manual)
  end, bufnr)
  if ok then
    id = sent
    state.request_id = sent
    M.sent = M.sent + 1
  end
end

--- After an edit: drop a suggestion the edit made stale, and ask again once editing pauses
--- (not while ghost text is shown or on its way, nor with a completion menu open: one
--- suggestion at a time; leaving insert mode after a change asks then).
---@param bufnr integer
function M.on_changed(bufnr)
  local state = M.buffers[bufnr]
  if not state then
    return
  end
  if state.edits and version(bufnr) ~= state.version then
    M.clear(bufnr, "ignored")
  end
  if not enabled() then
    return
  end
  state.timer:stop()
  state.timer:start(config.options.prediction.next_edit_debounce_ms, 0, vim.schedule_wrap(function()
    local ghost = package.loaded["kimi.predict.ghost"]
    if M.buffers[bufnr] ~= state or vim.fn.pumvisible() == 1
      or (ghost and ghost.busy(bufnr)) or state.edits then
      return
    end
    M.request(bufnr, false)
  end))
end

local group = vim.api.nvim_create_augroup("kimi.predict.next_edit", { clear = true })

--- Start next-edit suggestions in `bufnr` for `client`.
---@param bufnr integer
---@param client vim.lsp.Client
function M.attach(bufnr, client)
  M.buffers[bufnr] = { client_id = client.id, timer = assert(vim.uv.new_timer()), shown = {},
    drawn = {}, maps = {} }
  vim.api.nvim_create_autocmd({ "TextChanged", "TextChangedI" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.on_changed(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd({ "InsertEnter", "InsertLeave" }, {
    group = group,
    buffer = bufnr,
    callback = function(args)
      local state = M.buffers[bufnr]
      local tick = vim.b[bufnr].changedtick
      if state and args.event == "InsertEnter" then
        state.entered = tick
      elseif state and state.entered ~= tick then
        M.on_changed(bufnr) -- typed in insert mode: the ghost text is gone now
      end
    end,
  })
end

--- Stop next-edit suggestions in `bufnr` (a suggestion shown is ignored).
---@param bufnr integer
function M.detach(bufnr)
  local state = M.buffers[bufnr]
  if not state then
    return
  end
  M.clear(bufnr, "ignored")
  state.timer:close()
  M.buffers[bufnr] = nil
  pcall(vim.api.nvim_clear_autocmds, { group = group, buffer = bufnr })
end

return M
