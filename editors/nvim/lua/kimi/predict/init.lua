--- Edit prediction: ghost text and next-edit suggestions in the buffers the kimi client is
--- attached to, their keys, and :KimiPredict (which also tells the server: prediction.enabled).
local config = require("kimi.config")
local keys = require("kimi.predict.keys")
local log = require("kimi.log")

local M = {}

--- Neovim 0.12+ draws and requests ghost text itself (vim.lsp.inline_completion).
M.builtin = vim.lsp.inline_completion ~= nil

--- Prediction uses 0.11's client methods (client:request, client:cancel_request, ...).
M.supported = vim.fn.has("nvim-0.11") == 1

---@type table<integer, kimi.SavedKey[]>  bufnr -> the insert-mode keys mapped there
M.attached = {}

local group = vim.api.nvim_create_augroup("kimi.predict", { clear = true })

--- Accept through the built-in ghost text (0.12+): all only, it has no word or line accept.
---@param what "all"|"word"|"line"
---@return boolean
local function builtin_accept(what)
  if what ~= "all" then
    return false
  end
  -- Only when it shows a suggestion: without one, get() asks for one instead of falling
  -- through (and early 0.12 builds return nothing either way).
  local ns = vim.api.nvim_get_namespaces()["nvim.lsp.inline_completion"]
  if not ns or #vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { limit = 1 }) == 0 then
    return false
  end
  local ok, accepted = pcall(vim.lsp.inline_completion.get, { bufnr = 0 })
  return ok and accepted ~= false
end

---@param what "all"|"word"|"line"
---@return boolean
local function accept(what)
  if M.builtin then
    return builtin_accept(what)
  end
  return require("kimi.predict.ghost").accept(what)
end

--- The insert-mode keys of ghost text in `bufnr`.
local function map_keys(bufnr)
  local k = config.options.prediction.keys
  local ghost = require("kimi.predict.ghost")
  local maps = {}
  local function add(lhs, action, desc)
    maps[#maps + 1] = keys.map(bufnr, "i", lhs, action, desc)
  end
  add(k.accept, function()
    return accept("all")
  end, "accept the suggestion")
  add(k.accept_word, function()
    return accept("word")
  end, "accept the suggestion's next word")
  add(k.accept_line, function()
    return accept("line")
  end, "accept the suggestion's line")
  add(k.dismiss, function()
    local shown = ghost.shown(bufnr) ~= nil
    ghost.dismiss(bufnr)
    return shown
  end, "dismiss the suggestion")
  if k.tab then
    -- Never with a completion menu open: <Tab> is the menu's (or whatever it was) then.
    add("<Tab>", function()
      return vim.fn.pumvisible() == 0 and accept("all")
    end, "accept the suggestion (when no menu is open)")
  end
  return maps
end

--- Start prediction in `bufnr` (the kimi client just attached).
---@param bufnr integer
---@param client vim.lsp.Client
function M.attach(bufnr, client)
  if not M.supported or M.attached[bufnr] or not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  if M.builtin then
    pcall(vim.lsp.inline_completion.enable, config.options.prediction.enabled
      and config.options.prediction.ghost_text, { bufnr = bufnr, client_id = client.id })
  else
    require("kimi.predict.ghost").attach(bufnr, client)
  end
  require("kimi.predict.next_edit").attach(bufnr, client)
  M.attached[bufnr] = map_keys(bufnr)
end

--- Stop prediction in `bufnr`.
---@param bufnr integer
function M.detach(bufnr)
  local maps = M.attached[bufnr]
  if not maps then
    return
  end
  M.attached[bufnr] = nil
  keys.unmap(bufnr, maps)
  if not M.builtin then
    require("kimi.predict.ghost").detach(bufnr)
  end
  require("kimi.predict.next_edit").detach(bufnr)
end

--- Watch the kimi client attach and detach (and take the buffers it is attached to already).
function M.setup()
  vim.api.nvim_clear_autocmds({ group = group })
  vim.api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == "kimi" then
        M.attach(args.buf, client)
      end
    end,
  })
  vim.api.nvim_create_autocmd("LspDetach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == "kimi" then
        M.detach(args.buf)
      end
    end,
  })
  for _, client in ipairs(vim.lsp.get_clients({ name = "kimi" })) do
    for bufnr in pairs(client.attached_buffers) do
      M.attach(bufnr, client)
    end
  end
  if M.supported then
    require("kimi.status").state.prediction = config.options.prediction.enabled
  end
  M.configured = true
end

--- Tell the server (prediction.enabled) through workspace/didChangeConfiguration; its
--- workspace/configuration answers come from the same client settings.
---@param on boolean
local function push(on)
  for _, client in ipairs(vim.lsp.get_clients({ name = "kimi" })) do
    client.settings = client.settings or {}
    local section = client.settings.kimi
    if type(section) ~= "table" then
      section = {}
      client.settings.kimi = section
    end
    section.prediction = type(section.prediction) == "table" and section.prediction or {}
    section.prediction.enabled = on
    client:notify("workspace/didChangeConfiguration", { settings = client.settings })
  end
end

--- Turn prediction on or off everywhere.
---@param on boolean
function M.set(on)
  if not M.configured then
    M.setup()
  end
  config.options.prediction.enabled = on -- a client started later gets it (server_settings)
  push(on)
  require("kimi.status").state.prediction = on
  for bufnr in pairs(M.attached) do
    if M.builtin then
      pcall(vim.lsp.inline_completion.enable, on and config.options.prediction.ghost_text,
        { bufnr = bufnr })
    else
      require("kimi.predict.ghost").dismiss(bufnr)
    end
    if not on then
      require("kimi.predict.next_edit").clear(bufnr, "ignored")
    end
  end
  pcall(vim.cmd.redrawstatus)
end

--- :KimiPredict on|off|toggle (no argument: say whether it is on).
---@param opts table  the user command's opts
function M.command(opts)
  if not M.supported then
    log.notify("edit prediction needs Neovim 0.11 or newer.", "warn")
    return
  end
  local arg = vim.trim(opts.args or "")
  local on = config.options.prediction.enabled
  if arg == "on" then
    M.set(true)
  elseif arg == "off" then
    M.set(false)
  elseif arg == "toggle" then
    M.set(not on)
  elseif arg ~= "" then
    log.notify("say :KimiPredict on, off or toggle.", "warn")
    return
  end
  log.notify("edit prediction is " .. (config.options.prediction.enabled and "on" or "off")
    .. ".", "info")
end

return M
