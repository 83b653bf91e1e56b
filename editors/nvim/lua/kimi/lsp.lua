--- Starting and finding the kimi-lsp client: vim.lsp.config/enable on 0.11, vim.lsp.start on
--- 0.10; the handlers of the server's kimi/* notifications and the client-side commands.
local config = require("kimi.config")
local log = require("kimi.log")

local M = {}

M.NAME = "kimi"

local has_011 = vim.fn.has("nvim-0.11") == 1

--- Notification handlers, resolved lazily so that loading this module loads nothing else.
---@type table<string, lsp.Handler>
M.handlers = {
  ["kimi/chatDelta"] = function(...)
    require("kimi.chat").on_delta(...)
  end,
  ["kimi/editPreview"] = function(...)
    require("kimi.edit").on_preview(...)
  end,
  ["kimi/editDropped"] = function(...)
    require("kimi.edit").on_dropped(...)
  end,
  ["kimi/usage"] = function(...)
    require("kimi.status").on_usage(...)
  end,
  ["kimi/refactorProgress"] = function(...)
    require("kimi.refactor").on_progress(...)
  end,
}

--- workspace/applyEdit for the kimi client: Neovim applies a versioned TextDocumentEdit whose
--- buffer moved on with a "newer than edits" message and still answers `applied = true`; here a
--- stale edit is refused, so the server knows and nothing lands at stale offsets. Neovim's
--- handler would also truncate an existing file on a CreateFile whose options forbid it and
--- follow symlinks out of the workspace: kimi.workspace_edit checks those first (the whole
--- edit is refused, nothing applied, and the user told why).
---@param params lsp.ApplyWorkspaceEditParams
---@param ctx lsp.HandlerContext
M.handlers["workspace/applyEdit"] = function(_, params, ctx)
  local edit = params and params.edit or {}
  for _, change in ipairs(edit.documentChanges or {}) do
    local document = change.textDocument
    local version = document and document.version
    if type(version) == "number" then -- 0 too: the first version Neovim sends
      local bufnr = vim.uri_to_bufnr(document.uri)
      local current = vim.api.nvim_buf_is_loaded(bufnr) and vim.lsp.util.buf_versions[bufnr]
      if current and current > version then
        return {
          applied = false,
          failureReason = "the buffer changed after kimi computed this edit",
        }
      end
    end
  end
  local workspace_edit = require("kimi.workspace_edit")
  local config_files = workspace_edit.config_files(edit)
  if #config_files > 0 then
    -- The server never sends these unasked; they need the user's confirmation, which only a
    -- preview gives (Neovim ignores change annotations).
    local names = table.concat(vim.tbl_map(function(uri)
      return vim.fn.fnamemodify(vim.uri_to_fname(uri), ":~:.")
    end, config_files), ", ")
    local reason = "it changes editor or CI configuration (" .. names .. "), which can run "
      .. "commands: only a preview applies that (:KimiRefactor, then :KimiRefactorApply!)"
    log.notify("an edit from the server was not applied: " .. reason, "warn")
    return { applied = false, failureReason = reason }
  end
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local applied, reason = workspace_edit.apply(edit, client)
  if not applied then
    log.notify("an edit from the server was not applied: " .. tostring(reason), "warn")
    return { applied = false, failureReason = reason }
  end
  return { applied = true }
end

--- What the client tells the server it can do: the defaults, plus versioned edits
--- (`documentChanges`), which the handler above checks before anything is applied.
---@return lsp.ClientCapabilities
function M.capabilities()
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.workspace = capabilities.workspace or {}
  capabilities.workspace.workspaceEdit = capabilities.workspace.workspaceEdit or {}
  capabilities.workspace.workspaceEdit.documentChanges = true
  -- The plugin draws ghost text itself on 0.11 (lua/kimi/predict/ghost.lua), so it says so: the
  -- server warms its model client at the first keystroke instead of the first suggestion.
  capabilities.textDocument = capabilities.textDocument or {}
  capabilities.textDocument.inlineCompletion = capabilities.textDocument.inlineCompletion
    or { dynamicRegistration = false }
  return capabilities
end

--- Client-side handling of the commands the server's code actions carry: the ones that need
--- the user (an instruction) or read better in the chat buffer. The rest (kimi.fix,
--- kimi.docstring) run in the server, which applies the edit through workspace/applyEdit.
---@type table<string, fun(command: lsp.Command, ctx: table)>
M.commands = {
  ["kimi.inlineEdit"] = function(command)
    local args = command.arguments or {}
    local bufnr = vim.uri_to_bufnr(args[1])
    -- The action's range is the selection (or the cursor): edit the whole lines it touches.
    local start, finish = args[2].start, args[2]["end"]
    local last = finish.line
    if finish.character == 0 and finish.line > start.line then
      last = last - 1
    end
    local range = require("kimi.protocol").line_range(start.line + 1, last + 1)
    vim.ui.input({ prompt = "Kimi edit: " }, function(instruction)
      if instruction and vim.trim(instruction) ~= "" then
        require("kimi.edit").start(bufnr, range, instruction)
      end
    end)
  end,
  ["kimi.explain"] = function(command)
    local args = command.arguments or {}
    require("kimi.chat").ask("/explain", { bufnr = vim.uri_to_bufnr(args[1]), range = args[2] })
  end,
  ["kimi.tests"] = function(command)
    local args = command.arguments or {}
    require("kimi.chat").ask("/tests", { bufnr = vim.uri_to_bufnr(args[1]) })
  end,
}

---@param bufnr integer|nil
---@return string
local function root_dir(bufnr)
  local markers = config.options.root_markers
  local root = bufnr and vim.fs.root(bufnr, markers) or vim.fs.root(vim.fn.getcwd(), markers)
  return root or vim.fn.getcwd()
end

--- Start the server: the cmd option with its program resolved when the client starts (so a
--- later $PATH counts), never against the current directory (config.server_cmd).
---@param dispatchers vim.lsp.rpc.Dispatchers
---@return vim.lsp.rpc.PublicClient
local function spawn(dispatchers)
  local cmd, reason = config.server_cmd()
  if not cmd then
    log.write("error", "could not start the server: " .. tostring(reason))
    error("kimi: " .. tostring(reason), 0)
  end
  return vim.lsp.rpc.start(cmd, dispatchers)
end

--- The client configuration (without root_dir on 0.11, where root_markers find it).
---@return table
function M.client_config()
  local options = config.options
  local settings = config.server_settings()
  return {
    name = M.NAME,
    cmd = spawn,
    filetypes = options.filetypes and vim.deepcopy(options.filetypes) or nil,
    root_markers = vim.deepcopy(options.root_markers),
    init_options = settings,
    settings = { kimi = settings },
    capabilities = M.capabilities(),
    handlers = M.handlers,
    commands = M.commands,
    on_init = function(client)
      require("kimi.status").refresh(client)
    end,
  }
end

local function wanted(bufnr)
  if vim.bo[bufnr].buftype ~= "" or vim.api.nvim_buf_get_name(bufnr) == "" then
    return false
  end
  local filetypes = config.options.filetypes
  return filetypes == nil or vim.tbl_contains(filetypes, vim.bo[bufnr].filetype)
end

local group = vim.api.nvim_create_augroup("kimi.lsp", { clear = true })

--- Register the client: buffers matching `filetypes` attach on their FileType event.
function M.setup()
  local options = config.options
  vim.api.nvim_clear_autocmds({ group = group })
  if has_011 then
    vim.lsp.config(M.NAME, M.client_config())
    if options.autostart then
      vim.lsp.enable(M.NAME)
    end
    return
  end
  if options.autostart then
    vim.api.nvim_create_autocmd("FileType", {
      group = group,
      callback = function(args)
        if wanted(args.buf) then
          M.start(args.buf)
        end
      end,
    })
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= "" and wanted(bufnr) then
        M.start(bufnr)
      end
    end
  end
end

--- Start (or reuse) the client; attach `bufnr` when given.
---@param bufnr integer|nil
---@return integer|nil client_id
function M.start(bufnr)
  local cfg = M.client_config()
  cfg.root_markers = nil
  cfg.root_dir = root_dir(bufnr)
  if bufnr then
    return vim.lsp.start(cfg, { bufnr = bufnr })
  end
  if has_011 then
    return vim.lsp.start(cfg, { attach = false })
  end
  return vim.lsp.start_client(cfg)
end

--- The kimi client attached to `bufnr`.
---@param bufnr integer
---@return vim.lsp.Client|nil
function M.attached(bufnr)
  return vim.lsp.get_clients({ name = M.NAME, bufnr = bufnr })[1]
end

--- Any running kimi client (the one attached to `bufnr` first).
---@param bufnr? integer
---@return vim.lsp.Client|nil
function M.any(bufnr)
  return (bufnr and M.attached(bufnr)) or vim.lsp.get_clients({ name = M.NAME })[1]
end

--- Call `callback(client)` once a client is initialized: the one attached to `bufnr`, any
--- running one, or a new one (attached to `bufnr` when `attach` is set).
---@param bufnr integer|nil
---@param attach boolean
---@param callback fun(client: vim.lsp.Client)
function M.with_client(bufnr, attach, callback)
  local client = attach and bufnr and M.attached(bufnr) or (not attach and M.any(bufnr)) or nil
  local id = client and client.id
  if not id then
    local ok, started = pcall(M.start, attach and bufnr or nil)
    if not ok or not started then
      log.notify(
        "could not start the server ("
          .. table.concat(config.options.cmd, " ")
          .. "): run :checkhealth kimi. "
          .. tostring(ok and "" or started),
        "error"
      )
      return
    end
    id = started
  end
  local waited = 0
  local function poll()
    local c = vim.lsp.get_client_by_id(id)
    if not c or c:is_stopped() then
      log.notify("the server stopped while starting: see :checkhealth kimi and :LspLog", "error")
      return
    end
    if c.initialized then
      callback(c)
    elseif waited > 20000 then
      log.notify("the server did not finish starting within 20 s", "error")
    else
      waited = waited + 20
      vim.defer_fn(poll, 20)
    end
  end
  poll()
end

--- Send a request; errors are shown with the server's sentence, cancellations are silent.
---@param client vim.lsp.Client
---@param method string
---@param params table|nil
---@param on_result fun(result: any, err: lsp.ResponseError|nil)
---@param bufnr? integer
---@return integer|nil request_id
function M.request(client, method, params, on_result, bufnr)
  local function handler(err, result)
    if err then
      log.rpc_error(err, method)
    end
    on_result(result, err)
  end
  local ok, id
  if has_011 then
    ok, id = client:request(method, params, handler, bufnr)
  else
    ok, id = client.request(method, params, handler, bufnr)
  end
  if not ok then
    log.notify("could not send " .. method .. ": the server is not running", "error")
    return nil
  end
  return id
end

--- Cancel a request: the server stops the upstream HTTP stream (protocol.md).
---@param client vim.lsp.Client
---@param id integer
function M.cancel(client, id)
  if has_011 then
    client:cancel_request(id)
  else
    client.cancel_request(id)
  end
end

return M
