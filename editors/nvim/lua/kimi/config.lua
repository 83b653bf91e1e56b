--- Options of kimi.nvim: the documented defaults, merged with what `setup()` is given.
local M = {}

---@alias kimi.Keymap string|false  a left-hand side, or false to leave the key alone

---@class kimi.ChatKeymaps
---@field submit_normal kimi.Keymap  send the message under the last "## You" (normal mode)
---@field submit_insert kimi.Keymap  same, from insert mode
---@field stop kimi.Keymap           stop the answer being written (cancels the request upstream)
---@field close kimi.Keymap          close the chat window

---@class kimi.EditKeymaps
---@field accept_hunk kimi.Keymap  accept the hunk under the cursor
---@field reject_hunk kimi.Keymap  drop the hunk under the cursor from the proposal
---@field accept_all kimi.Keymap   accept every hunk still shown
---@field reject_all kimi.Keymap   reject the whole proposal

---@class kimi.Keymaps
---@field chat kimi.ChatKeymaps  buffer-local in the chat buffer
---@field edit kimi.EditKeymaps  buffer-local while a proposal is shown

---@class kimi.ChatOptions
---@field layout "vertical"|"horizontal"|"tab"|"current"  where `:KimiChat` opens the chat
---@field size number       width (vertical) or height (horizontal): a fraction of the editor, or columns/lines
---@field fold_reasoning boolean  fold the model's reasoning once the answer starts
---@field context "auto"|"none"   send the current file and its neighbours as context

---@class kimi.HealthOptions
---@field online boolean  let `:checkhealth kimi` call the API (`kimi-lsp doctor --online`)

---@class kimi.DefinitionsOptions
---@field enabled boolean        ask the buffer's other language servers where the identifiers near the cursor are defined, and send those spans with kimi/chat, kimi/inlineEdit, kimi/context and kimi/refactor
---@field timeout_ms integer     how long to wait for their answers (what has answered by then is used)
---@field max_identifiers integer  identifiers looked up per request, nearest the cursor first
---@field window integer         without a selection: lines above and below the cursor to take identifiers from

---@class kimi.LogOptions
---@field level "debug"|"info"|"warn"|"error"|"off"  what goes to the log file
---@field file string|nil  the log file (default: stdpath("log")/kimi.log)

---@class kimi.PredictionKeys  insert-mode keys for ghost text; normal-mode `next` for next edits
---@field accept kimi.Keymap       accept the whole suggestion
---@field accept_word kimi.Keymap  accept its next word
---@field accept_line kimi.Keymap  accept the rest of its current line
---@field dismiss kimi.Keymap      hide it
---@field tab boolean              <Tab> accepts too while a suggestion is shown and no menu is (else <Tab> does what it did)
---@field next kimi.Keymap         (normal mode) jump to the next suggested edit

---@class kimi.PredictionOptions
---@field enabled boolean        edit prediction on (pushed to the server as prediction.enabled)
---@field debounce_ms integer    pause in typing before ghost text is asked for
---@field ghost_text boolean     ghost text while typing in insert mode
---@field next_edit boolean      next-edit suggestions after an edit pause
---@field next_edit_debounce_ms integer  pause after an edit before next edits are asked for
---@field keys kimi.PredictionKeys

---@class kimi.Config
---@field cmd string[]  the server command
---@field filetypes string[]|nil  filetypes to attach to; nil attaches to every file buffer
---@field root_markers string[]   files or folders that mark a workspace root
---@field settings table  the server's settings (the `kimi` section / initializationOptions): apiKey, baseUrl, model, thinking, ...
---@field autostart boolean  attach to matching buffers on their FileType event
---@field chat kimi.ChatOptions
---@field keymaps kimi.Keymaps
---@field health kimi.HealthOptions
---@field definitions kimi.DefinitionsOptions
---@field log kimi.LogOptions
---@field prediction kimi.PredictionOptions

---@type kimi.Config
M.defaults = {
  -- The server command; `python -m kimi_lsp` works too.
  cmd = { "kimi-lsp" },
  -- nil: every buffer that holds a file (`buftype` empty) with a filetype.
  filetypes = nil,
  root_markers = { ".git" },
  -- Sent as initializationOptions and answered for the `kimi` section of
  -- workspace/configuration. Keys as in the server's README: apiKey, baseUrl, model, thinking,
  -- prefixMode, contextWindow, maxOutputTokens, maxConcurrentRequests, requestTimeoutSeconds,
  -- maxRetries, pricing, exclude, redactSecrets, contextBudget (per purpose, e.g.
  -- { edit = 8000 }). Prefer the MOONSHOT_API_KEY environment variable to putting apiKey here.
  settings = {},
  autostart = true,
  chat = {
    layout = "vertical",
    size = 0.4,
    fold_reasoning = true,
    context = "auto",
  },
  keymaps = {
    chat = {
      submit_normal = "<CR>",
      submit_insert = "<C-s>",
      stop = "<C-c>",
      close = "q",
    },
    edit = {
      accept_hunk = "ga",
      reject_hunk = "gr",
      accept_all = "gA",
      reject_all = "gR",
    },
  },
  health = {
    online = false,
  },
  -- Definitions from the buffer's other language servers (e.g. pyright, gopls), sent so the
  -- server packs what the cursor uses first. Asynchronous: never delays typing.
  definitions = {
    enabled = true,
    timeout_ms = 150,
    max_identifiers = 24,
    window = 10,
  },
  log = {
    level = "warn",
    file = nil,
  },
  -- Edit prediction: ghost text while typing, next-edit suggestions after an edit pause.
  prediction = {
    enabled = true,
    debounce_ms = 75,
    ghost_text = true,
    next_edit = true,
    next_edit_debounce_ms = 500,
    keys = {
      accept = "<M-l>",
      accept_word = "<M-w>",
      accept_line = "<M-j>",
      dismiss = "<C-]>",
      tab = true,
      next = "]k",
    },
  },
}

---@type kimi.Config
M.options = vim.deepcopy(M.defaults)

--- Whether `setup()` has run (commands work without it, with the defaults).
M.configured = false

-- vim.validate's positional form is 0.11+; the table form works on 0.10 and 0.11.
local function validate(name, value, kind, optional_or_message)
  vim.validate({ [name] = { value, kind, optional_or_message } })
end

local function one_of(choices)
  return function(v)
    return vim.tbl_contains(choices, v)
  end, "one of " .. table.concat(choices, ", ")
end

local function check(opts)
  validate("cmd", opts.cmd, "table")
  validate("filetypes", opts.filetypes, "table", true)
  validate("root_markers", opts.root_markers, "table")
  validate("settings", opts.settings, "table")
  validate("chat.layout", opts.chat.layout, one_of({ "vertical", "horizontal", "tab", "current" }))
  validate("log.level", opts.log.level, one_of({ "debug", "info", "warn", "error", "off" }))
  validate("definitions.enabled", opts.definitions.enabled, "boolean")
  for _, key in ipairs({ "timeout_ms", "max_identifiers", "window" }) do
    local value = opts.definitions[key]
    validate("definitions." .. key, value, function(v)
      return type(v) == "number" and v >= 0 and v == math.floor(v)
    end, "a whole number, 0 or more")
  end
  local prediction = opts.prediction
  validate("prediction", prediction, "table")
  for _, key in ipairs({ "enabled", "ghost_text", "next_edit" }) do
    validate("prediction." .. key, prediction[key], "boolean")
  end
  for _, key in ipairs({ "debounce_ms", "next_edit_debounce_ms" }) do
    validate("prediction." .. key, prediction[key], function(v)
      return type(v) == "number" and v >= 0 and v == math.floor(v)
    end, "a whole number of milliseconds, 0 or more")
  end
  validate("prediction.keys", prediction.keys, "table")
  validate("prediction.keys.tab", prediction.keys.tab, "boolean")
  for _, key in ipairs({ "accept", "accept_word", "accept_line", "dismiss", "next" }) do
    validate("prediction.keys." .. key, prediction.keys[key], function(v)
      return v == false or (type(v) == "string" and v ~= "")
    end, "a key (string) or false")
  end
end

--- Merge `opts` over the defaults; raises with a readable message on a bad option.
---@param opts? table
---@return kimi.Config
function M.set(opts)
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  -- Lists replace, they do not merge index by index.
  if opts and opts.cmd then
    merged.cmd = vim.deepcopy(opts.cmd)
  end
  if opts and opts.root_markers then
    merged.root_markers = vim.deepcopy(opts.root_markers)
  end
  -- prediction.enabled = false in the server settings turns the plugin's side off too.
  local server_side = type(merged.settings) == "table" and merged.settings.prediction
  if type(server_side) == "table" and server_side.enabled == false
    and type(merged.prediction) == "table" then
    merged.prediction.enabled = false
  end
  check(merged)
  M.options = merged
  M.configured = true
  return merged
end

--- Whether `path` is absolute (vim.fn.isabsolutepath is 0.10+ only on some builds).
---@param path string
---@return boolean
local function absolute(path)
  if vim.fn.has("win32") == 1 then
    return path:match("^%a:[/\\]") ~= nil or path:match("^[/\\][/\\]") ~= nil
  end
  return path:sub(1, 1) == "/"
end

--- The server command with its program as an absolute path: as given when absolute (or under
--- ~), else found in the absolute directories of $PATH. Never resolved against the current
--- directory (a repository's own `./kimi-lsp`, a relative `bin/kimi-lsp`, or "." in $PATH):
--- opening a project must not choose the program that receives the API key.
---@param cmd? string[]  default: the cmd option
---@return string[]|nil cmd
---@return string|nil reason  why there is none
function M.server_cmd(cmd)
  cmd = vim.deepcopy(cmd or M.options.cmd)
  local program = cmd[1]
  if type(program) ~= "string" or program == "" then
    return nil, "the cmd option names no program"
  end
  if program:sub(1, 1) == "~" then
    program = vim.fs.normalize(program)
  end
  if absolute(program) then
    cmd[1] = program
    return cmd, nil
  end
  if program:find("[/\\]") then
    return nil, "the server program " .. program .. " is a relative path, which would be "
      .. "looked up in the current directory: give an absolute path (or a name on $PATH)"
  end
  local separator = vim.fn.has("win32") == 1 and ";" or ":"
  for _, dir in ipairs(vim.split(vim.env.PATH or "", separator, { plain = true })) do
    if dir ~= "" and absolute(dir) then
      local found = vim.fn.exepath(vim.fs.joinpath(dir, program))
      if found ~= "" and absolute(found) then
        cmd[1] = found
        return cmd, nil
      end
    end
  end
  return nil, "the server program " .. program .. " was not found in $PATH's absolute "
    .. "directories"
end

--- The settings object as sent to the server: an empty table must still encode as `{}`.
--- Prediction turned off in setup() (or by :KimiPredict) is sent as prediction.enabled = false,
--- so the server spends nothing on it either.
---@return table
function M.server_settings()
  local settings = vim.deepcopy(M.options.settings or {})
  if M.options.prediction and M.options.prediction.enabled == false then
    local prediction = type(settings.prediction) == "table" and settings.prediction or {}
    prediction.enabled = false
    settings.prediction = prediction
  end
  if next(settings) == nil then
    return vim.empty_dict()
  end
  return settings
end

return M
