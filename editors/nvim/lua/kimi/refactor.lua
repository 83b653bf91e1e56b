--- `:KimiRefactor {instruction}`: a multi-file refactor (kimi/refactor) in preview mode. The
--- server's agent plans and edits; its progress is shown as it goes; the proposed WorkspaceEdit
--- becomes a quickfix list (one entry per file) and a unified diff of every file. Nothing
--- changes until :KimiRefactorApply; :KimiRefactorDiscard drops the proposal.
local log = require("kimi.log")

local M = {}

---@class kimi.RefactorState
---@field client_id integer
---@field instruction string
---@field request_id integer|nil  while the agent works
---@field result table|nil        the kimi/refactor answer
---@field base table<string, string>  uri -> the text the diff was made against
---@field created table<string, boolean>  uris of the files the refactor creates
---@field config table<string, boolean>|nil  uris of editor/CI configuration it changes
---@field diff_buf integer|nil
---@field title string            the quickfix list's title

---@type kimi.RefactorState|nil
M.current = nil

--- Progress notes of the refactor running now: {message, uri?, step}.
M.progress = {}

--- The current text of `uri`: the loaded buffer's, else the file's ("" for a new file).
---@param uri string
---@return string text
---@return boolean exists
local function current_text(uri)
  local fname = vim.uri_to_fname(uri)
  local bufnr = vim.fn.bufnr(fname)
  if bufnr ~= -1 and vim.api.nvim_buf_is_loaded(bufnr) then
    local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
    return table.concat(lines, "\n") .. "\n", true
  end
  if vim.fn.filereadable(fname) == 1 then
    local lines = vim.fn.readfile(fname, "b")
    if lines[#lines] == "" then
      lines[#lines] = nil
      return table.concat(lines, "\n") .. "\n", true
    end
    return table.concat(lines, "\n"), true
  end
  return "", false
end

--- A new file's text arrives as an insertion ending in a newline into an empty buffer, which
--- leaves an empty last line: drop it (the buffer's final newline is implied).
---@param bufnr integer
local function trim_created(bufnr)
  local count = vim.api.nvim_buf_line_count(bufnr)
  if count > 1 and vim.api.nvim_buf_get_lines(bufnr, count - 1, count, false)[1] == "" then
    vim.api.nvim_buf_set_lines(bufnr, count - 1, count, false, {})
  end
end

--- `text` with `edits` applied (in a throwaway scratch buffer, as apply_workspace_edit would).
---@param text string
---@param edits lsp.TextEdit[]
---@param encoding string
---@return string
local function apply_to(text, edits, encoding)
  local scratch = vim.api.nvim_create_buf(false, true)
  local lines = vim.split(text, "\n", { plain = true })
  if lines[#lines] == "" then
    lines[#lines] = nil
  end
  vim.api.nvim_buf_set_lines(scratch, 0, -1, false, lines)
  vim.lsp.util.apply_text_edits(edits, scratch, encoding)
  if text == "" then
    trim_created(scratch)
  end
  local out = vim.api.nvim_buf_get_lines(scratch, 0, -1, false)
  vim.api.nvim_buf_delete(scratch, { force = true })
  if #out == 1 and out[1] == "" then
    return ""
  end
  return table.concat(out, "\n") .. "\n"
end

--- The edits of `uri` in a WorkspaceEdit (plain `changes` or `documentChanges`).
---@param edit lsp.WorkspaceEdit
---@param uri string
---@return lsp.TextEdit[]
local function edits_of(edit, uri)
  if edit.changes and edit.changes[uri] then
    return edit.changes[uri]
  end
  local out = {}
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.textDocument and change.textDocument.uri == uri then
      vim.list_extend(out, change.edits or {})
    end
  end
  return out
end

local function rel(uri)
  local fname = vim.uri_to_fname(uri)
  local rel_path = vim.fs.relpath and vim.fs.relpath(vim.fn.getcwd(), fname) or nil
  return rel_path or vim.fn.fnamemodify(fname, ":~:.")
end

local function close_diff(state)
  if state.diff_buf and vim.api.nvim_buf_is_valid(state.diff_buf) then
    vim.api.nvim_buf_delete(state.diff_buf, { force = true })
  end
  state.diff_buf = nil
end

--- Show the proposal: quickfix entries and the unified diff buffer.
---@param state kimi.RefactorState
---@param encoding string
local function show(state, encoding)
  local result = state.result
  local items, diff = {}, {}
  for _, line in ipairs(vim.split(vim.trim(result.summary or ""), "\n", { plain = true })) do
    diff[#diff + 1] = "# " .. line
  end
  local config_files = require("kimi.workspace_edit").config_files(result.edit)
  state.config = {}
  for _, uri in ipairs(config_files) do
    state.config[uri] = true
    diff[#diff + 1] = "# WARNING: " .. rel(uri) .. " is editor or CI configuration, which can "
      .. "run commands: read its diff."
  end
  diff[#diff + 1] = #config_files > 0
      and "# :KimiRefactorApply! applies (the ! confirms the configuration changes), "
        .. ":KimiRefactorDiscard drops it."
    or "# :KimiRefactorApply applies, :KimiRefactorDiscard drops it."
  state.base, state.created = {}, {}
  local creates = {}
  for _, change in ipairs(result.edit.documentChanges or {}) do
    if change.kind == "create" then
      creates[change.uri] = true
    end
  end
  for _, uri in ipairs(result.files or {}) do
    local old, exists = current_text(uri)
    local edits = edits_of(result.edit, uri)
    local new = apply_to(old, edits, encoding)
    state.base[uri] = old
    state.created[uri] = not exists or nil
    local hunks = vim.diff(old, new, { result_type = "indices" }) --[[@as integer[][] ]]
    local added, removed, lnum = 0, 0, 1
    for i, h in ipairs(hunks) do
      removed, added = removed + h[2], added + h[4]
      if i == 1 then
        lnum = math.max(h[3], 1)
      end
    end
    local name = rel(uri)
    local what = exists and string.format("%d change(s), +%d -%d lines", #hunks, added, removed)
      or string.format("new file, %d lines", added)
    if creates[uri] and exists then
      -- Appeared after the server looked: applying would replace it, so it is refused then.
      what = "a new file, but it exists now: :KimiRefactorApply will refuse"
    end
    if state.config[uri] then
      what = "editor/CI configuration (can run commands), " .. what
    end
    items[#items + 1] = {
      filename = vim.uri_to_fname(uri),
      lnum = lnum,
      col = 1,
      text = "Kimi refactor: " .. what,
    }
    diff[#diff + 1] = "diff --kimi a/" .. name .. " b/" .. name
    diff[#diff + 1] = (exists and ("--- a/" .. name) or "--- /dev/null")
    diff[#diff + 1] = "+++ b/" .. name
    local unified = vim.diff(old, new, { result_type = "unified", ctxlen = 3 }) --[[@as string]]
    vim.list_extend(diff, vim.split(unified:gsub("\n$", ""), "\n", { plain = true }))
  end
  vim.fn.setqflist({}, " ", { title = state.title, items = items })
  close_diff(state)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, diff)
  vim.bo[buf].filetype = "diff"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].modifiable = false
  pcall(vim.api.nvim_buf_set_name, buf, "kimi://refactor/" .. (result.refactorId or "preview"))
  state.diff_buf = buf
  vim.cmd("botright copen")
  vim.cmd("aboveleft split")
  vim.api.nvim_win_set_buf(0, buf)
end

--- kimi/refactorProgress: show each step.
function M.on_progress(_, params)
  if type(params) ~= "table" or not params.message then
    return
  end
  M.progress[#M.progress + 1] = params
  local where = params.uri and (" (" .. rel(params.uri) .. ")") or ""
  log.write("info", "refactor: " .. tostring(params.message) .. where)
  if M.current and M.current.request_id then
    vim.notify("Kimi refactor: " .. tostring(params.message) .. where, vim.log.levels.INFO,
      { title = "Kimi" })
  end
end

--- Start a refactor in preview mode.
---@param instruction string
function M.start(instruction)
  instruction = vim.trim(instruction or "")
  if instruction == "" then
    log.notify("say what to change: :KimiRefactor {instruction}", "warn")
    return
  end
  if M.current then
    M.discard(true)
  end
  local lsp = require("kimi.lsp")
  local bufnr = vim.api.nvim_get_current_buf()
  local cursor = vim.api.nvim_win_get_cursor(0)[1] - 1
  lsp.with_client(bufnr, false, function(client)
    -- Definitions around the cursor of the buffer the refactor starts from (none from a
    -- scratch buffer).
    local from_file = vim.api.nvim_buf_is_valid(bufnr) and vim.bo[bufnr].buftype == ""
    local function lookup(callback)
      if from_file then
        require("kimi.definitions").around(bufnr, nil, cursor, callback)
      else
        callback({})
      end
    end
    lookup(function(located)
      ---@type kimi.RefactorState
      local state = {
        client_id = client.id,
        instruction = instruction,
        base = {},
        created = {},
        title = "Kimi refactor: " .. instruction,
      }
      M.current = state
      M.progress = {}
      require("kimi.status").busy(1)
      log.notify("refactoring: " .. instruction .. " (:KimiStop stops it)", "info")
      state.request_id = lsp.request(client, "kimi/refactor", {
        instruction = instruction,
        mode = "preview",
        definitions = #located > 0 and located or nil,
      }, function(result, err)
        if not state.request_id then
          return -- stopped meanwhile
        end
        state.request_id = nil
        require("kimi.status").busy(-1)
        if M.current ~= state then
          return
        end
        if err or type(result) ~= "table" or type(result.edit) ~= "table" then
          M.current = nil
          return
        end
        state.result = result
        if #(result.files or {}) == 0 then
          M.current = nil
          log.notify("the refactor changes nothing. " .. tostring(result.summary or ""), "info")
          return
        end
        show(state, client.offset_encoding or "utf-16")
        log.notify(string.format("the refactor changes %d file(s): :KimiRefactorApply applies "
          .. "it, :KimiRefactorDiscard drops it.", #result.files), "info")
      end)
      if not state.request_id then
        require("kimi.status").busy(-1)
        M.current = nil
      end
    end)
  end)
end

--- :KimiRefactor {instruction}
---@param opts table  the user command's opts
function M.command(opts)
  if opts.args ~= "" then
    M.start(opts.args)
    return
  end
  vim.ui.input({ prompt = "Kimi refactor: " }, function(instruction)
    if instruction then
      M.start(instruction)
    end
  end)
end

--- :KimiRefactorApply: apply the proposal to the buffers (unsaved, like a rename).
---@param confirmed? boolean  :KimiRefactorApply!, needed when it changes editor/CI configuration
function M.apply(confirmed)
  local state = M.current
  if not state or not state.result then
    log.notify(state and "the refactor is still running." or "no Kimi refactor to apply.",
      "warn")
    return
  end
  if next(state.config or {}) and not confirmed then
    local names = vim.tbl_map(rel, vim.tbl_keys(state.config))
    table.sort(names)
    log.notify("the refactor changes editor or CI configuration (" .. table.concat(names, ", ")
      .. "), which can run commands: read the diff, then :KimiRefactorApply! applies it.", "warn")
    return
  end
  local client = vim.lsp.get_client_by_id(state.client_id)
  -- Against what the server computed the edit from (its `bases`): a file that moved after the
  -- server answered, before the preview was shown, would take the edit at the wrong lines.
  local bases = state.result.bases
  if type(bases) == "table" then
    local moved = require("kimi.bases").moved(state.result.files or {}, bases, state.client_id)
    if #moved > 0 then
      log.notify(table.concat(vim.tbl_map(rel, moved), ", ") .. " changed since kimi "
        .. "computed the refactor, so nothing was applied: run :KimiRefactor again.", "warn")
      return
    end
  end
  -- And against the preview the user saw.
  for uri, old in pairs(state.base) do
    if current_text(uri) ~= old then
      log.notify(rel(uri) .. " changed since the preview, so nothing was applied: "
        .. "run :KimiRefactor again.", "warn")
      return
    end
  end
  local applied, reason = require("kimi.workspace_edit").apply(state.result.edit, client)
  if not applied then
    log.notify("the refactor was not applied: " .. tostring(reason), "warn")
    return
  end
  for uri in pairs(state.created) do
    trim_created(vim.uri_to_bufnr(uri))
  end
  M.current = nil
  close_diff(state)
  local qf = vim.fn.getqflist({ title = 0 })
  if qf.title == state.title then
    vim.fn.setqflist({}, "a", { title = state.title .. " (applied)" })
  end
  log.notify(string.format("applied to %d file(s); they are not saved yet (:wall saves them).",
    #state.result.files), "info")
end

--- :KimiRefactorDiscard: drop the proposal (or stop the refactor still running).
---@param quiet? boolean
function M.discard(quiet)
  local state = M.current
  if not state then
    if not quiet then
      log.notify("no Kimi refactor to discard.", "warn")
    end
    return
  end
  M.current = nil
  if state.request_id then
    local client = vim.lsp.get_client_by_id(state.client_id)
    if client then
      require("kimi.lsp").cancel(client, state.request_id)
    end
    state.request_id = nil
    require("kimi.status").busy(-1)
  end
  close_diff(state)
  local qf = vim.fn.getqflist({ title = 0 })
  if qf.title == state.title then
    vim.fn.setqflist({}, "r", { title = state.title .. " (discarded)", items = {} })
    vim.cmd("cclose")
  end
  if not quiet then
    log.notify("refactor discarded.", "info")
  end
end

--- Stop a refactor still running (for :KimiStop).
---@return integer stopped
function M.stop()
  if M.current and M.current.request_id then
    M.discard(true)
    return 1
  end
  return 0
end

return M
