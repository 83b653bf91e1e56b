--- `:checkhealth kimi`: Neovim version, the server executable and its version, the API key
--- (present or not, never shown), the configured roles and fallbacks (their key variables set or
--- not, never their keys) and, when asked, whether the endpoint answers.
local M = {}

local health = vim.health

local KEY_VARIABLES = { "MOONSHOT_API_KEY", "KIMI_API_KEY" }

--- The role and fallback entries of `settings`, each with its settings path ("models.chat",
--- "fallback[1]"), roles in a fixed order.
---@param settings table
---@return {path: string, entry: table}[]
local function entries(settings)
  local out = {}
  if type(settings.models) == "table" then
    local roles = vim.tbl_keys(settings.models)
    table.sort(roles)
    for _, role in ipairs(roles) do
      if type(settings.models[role]) == "table" then
        out[#out + 1] = { path = "models." .. tostring(role), entry = settings.models[role] }
      end
    end
  end
  if type(settings.fallback) == "table" then
    for i, entry in ipairs(settings.fallback) do
      if type(entry) == "table" then
        out[#out + 1] = { path = string.format("fallback[%d]", i - 1), entry = entry }
      end
    end
  end
  return out
end

--- Every key we know of, to scrub from anything shown: the main ones and every variable a role
--- or fallback names in apiKeyEnv (and a key wrongly written into an entry).
---@return string[]
local function secrets()
  local keys = {}
  local settings = require("kimi.config").options.settings or {}
  local values = { settings.apiKey, vim.env.MOONSHOT_API_KEY, vim.env.KIMI_API_KEY }
  for _, item in ipairs(entries(settings)) do
    local name = item.entry.apiKeyEnv
    if type(name) == "string" and name ~= "" then
      values[#values + 1] = vim.env[name]
    end
    values[#values + 1] = item.entry.apiKey
  end
  for _, value in ipairs(values) do
    if type(value) == "string" and #value >= 4 then
      keys[#keys + 1] = value
    end
  end
  return keys
end

---@param text string
---@return string
local function scrub(text)
  for _, key in ipairs(secrets()) do
    text = text:gsub(vim.pesc(key), "<redacted>")
  end
  return text
end

--- Run a command; returns the exit code and its output (stdout, then stderr), scrubbed.
---@param cmd string[]
---@param env table|nil
---@param timeout integer  ms
---@return integer code
---@return string output
local function run(cmd, env, timeout)
  local ok, job = pcall(vim.system, cmd, { text = true, env = env })
  if not ok then
    return -1, scrub(tostring(job))
  end
  local result = job:wait(timeout)
  if result.code == 124 and result.signal ~= 0 then
    return -1, "timed out after " .. timeout / 1000 .. " s"
  end
  return result.code, scrub(vim.trim((result.stdout or "") .. "\n" .. (result.stderr or "")))
end

local function check_neovim()
  health.start("kimi.nvim: Neovim")
  local v = vim.version()
  local version = string.format("Neovim %d.%d.%d", v.major, v.minor, v.patch)
  if vim.fn.has("nvim-0.11") == 1 then
    health.ok(version)
  elseif vim.fn.has("nvim-0.10") == 1 then
    health.ok(version .. " (0.11 or newer registers the server with vim.lsp.config)")
  else
    health.error(version .. " is too old", { "kimi.nvim needs Neovim 0.10 or newer" })
  end
  if not require("kimi.config").configured then
    health.info("setup() was not called: commands use the defaults, buffers do not attach "
      .. "until it is")
  end
end

---@return table|nil status  kimi/status of the running client
local function check_server(options)
  health.start("kimi.nvim: server")
  local cmd, reason = require("kimi.config").server_cmd(options.cmd)
  if not cmd then
    health.error("server executable not found: " .. tostring(options.cmd[1]) .. " (" .. reason
      .. ")", {
      "Install the server (pip install kimi-lsp) or set the cmd option, e.g. "
        .. 'cmd = { "python", "-m", "kimi_lsp" }',
    })
    return nil
  end
  health.ok("server executable: " .. cmd[1])
  local code, output = run(vim.list_extend(vim.deepcopy(cmd), { "--version" }), nil, 15000)
  if code == 0 then
    health.ok("server version: " .. output)
  else
    health.error("`" .. table.concat(cmd, " ") .. " --version` failed: " .. output)
  end
  local client = vim.lsp.get_clients({ name = "kimi" })[1]
  if not client then
    health.info("the server is not running: it starts with the first matching buffer")
    return nil
  end
  local response
  if vim.fn.has("nvim-0.11") == 1 then
    response = client:request_sync("kimi/status", vim.empty_dict(), 3000)
  else
    response = client.request_sync("kimi/status", vim.empty_dict(), 3000)
  end
  local status = response and response.result
  if type(status) == "table" then
    health.ok(string.format("running (client %d): model %s at %s", client.id,
      tostring(status.model), tostring(status.baseUrl)))
    if type(status.lastError) == "table" then
      health.warn("last error: " .. scrub(tostring(status.lastError.message)))
    end
    return status
  end
  health.warn("the server is running but did not answer kimi/status")
  return nil
end

local function check_key(options, status)
  health.start("kimi.nvim: API key")
  local from
  if type(options.settings.apiKey) == "string" and options.settings.apiKey ~= "" then
    from = "the apiKey setting"
  else
    for _, name in ipairs(KEY_VARIABLES) do
      if (vim.env[name] or "") ~= "" then
        from = "$" .. name
        break
      end
    end
  end
  if from then
    health.ok("API key configured (from " .. from .. ")")
  elseif status and status.apiKeyConfigured then
    health.ok("API key configured (the running server has one, e.g. from its settings file)")
  else
    health.error("API key missing", {
      "set MOONSHOT_API_KEY (or KIMI_API_KEY) in the environment Neovim starts from",
      "or settings = { apiKey = ... } in setup(), or apiKey in ~/.config/kimi-lsp/settings.json",
    })
  end
end

--- One entry for a person: "models.chat: fast-model at https://… (key from $RELAY_KEY, set)".
---@param item {path: string, entry: table}
---@param settings table
---@return string line
---@return string|nil problem  what makes the entry send no key, or a key where none belongs
local function describe_entry(item, settings)
  local entry = item.entry
  local url = type(entry.baseUrl) == "string" and entry.baseUrl or nil
  local where = url or ((settings.baseUrl or "the top-level endpoint") .. " (top level)")
  local name = entry.apiKeyEnv
  local key, problem
  if entry.apiKey ~= nil then
    key, problem = "", "a key is written in the entry: remove it and name a variable in apiKeyEnv"
  elseif type(name) == "string" and name ~= "" then
    local set = (vim.env[name] or "") ~= ""
    key = string.format(", key from $%s (%s)", name, set and "set" or "not set")
    if not set then
      problem = string.format("$%s is not set in the environment Neovim starts from: requests to "
        .. "%s go without a key", name, item.path)
    end
  elseif url and url ~= settings.baseUrl then
    key = ", no key (another endpoint without apiKeyEnv: the main key never goes there)"
  else
    key = ", the main key"
  end
  return string.format("%s: %s at %s%s", item.path, tostring(entry.model), where, key), problem
end

local function check_roles(options, status)
  health.start("kimi.nvim: roles and fallbacks")
  local settings = options.settings or {}
  local items = entries(settings)
  if #items == 0 then
    health.info("no roles or fallbacks configured: every request uses " .. tostring(
      settings.model or (status and status.model) or "the top-level model"))
  end
  for _, item in ipairs(items) do
    local line, problem = describe_entry(item, settings)
    if problem then
      health.warn(scrub(line), { scrub(problem) })
    else
      health.ok(scrub(line))
    end
  end
  if status and type(status.roles) == "table" then
    health.info(scrub("the running server: " .. table.concat(require("kimi.status").roles_lines(
      status), "; ")))
  end
end

local function check_endpoint(options)
  health.start("kimi.nvim: endpoint")
  if not (options.health.online or vim.g.kimi_health_online) then
    health.info("not checked: set health = { online = true } in setup(), or "
      .. ":let g:kimi_health_online = 1, and run :checkhealth kimi again")
    return
  end
  -- The doctor reads the environment: give it what the plugin passes the server.
  local settings = options.settings
  local env = {}
  if settings.apiKey then
    env.MOONSHOT_API_KEY = settings.apiKey
  end
  if settings.baseUrl then
    env.KIMI_BASE_URL = settings.baseUrl
  end
  if settings.model then
    env.KIMI_MODEL = settings.model
  end
  local server = require("kimi.config").server_cmd(options.cmd)
  if not server then
    health.error("not checked: the server executable was not found")
    return
  end
  local cmd = vim.list_extend(server, { "doctor", "--online" })
  local _, output = run(cmd, env, 30000)
  local found = false
  for _, line in ipairs(vim.split(output, "\n", { plain = true })) do
    -- "endpoint" (answers, lists the model) and, per configured model, "probe" (the parameter
    -- dialect it understands): ✓ fine, ! worth a look, ✗ broken.
    local mark, what, rest = line:match("^(%S+)%s+(%a+)%s+(.*)$")
    if what == "endpoint" or what == "probe" then
      if mark == "✓" then
        found = found or what == "endpoint"
        health.ok(what .. ": " .. rest)
      elseif mark == "!" then
        health.warn(what .. ": " .. rest)
      elseif mark == "✗" then
        found = found or what == "endpoint"
        health.error(what .. ": " .. rest)
      end
    end
  end
  if not found then
    health.error("`kimi-lsp doctor --online` did not report the endpoint: " .. output)
  end
end

local function check_definitions(options)
  health.start("kimi.nvim: definitions from other language servers")
  local definitions = options.definitions
  if not definitions.enabled then
    health.info("off (definitions = { enabled = false }): requests carry no definitions")
    return
  end
  local names = {}
  for _, client in ipairs(vim.lsp.get_clients()) do
    if client.name ~= require("kimi.lsp").NAME and not vim.tbl_contains(names, client.name) then
      names[#names + 1] = client.name
    end
  end
  health.ok(string.format("on: up to %d identifiers near the cursor, looked up for at most %d ms",
    definitions.max_identifiers, definitions.timeout_ms))
  if #names > 0 then
    health.ok("other language servers running: " .. table.concat(names, ", "))
  else
    health.info("no other language server is running: requests carry no definitions until "
      .. "one (pyright, gopls, ...) attaches to the buffer")
  end
end

local function check_prediction(options)
  health.start("kimi.nvim: edit prediction")
  local p = options.prediction
  local ghost = vim.lsp.inline_completion and "Neovim's built-in inline completion"
    or "the plugin's extmarks"
  health.info(p.enabled and string.format("on (:KimiPredict off stops it): ghost text %s (%s), "
    .. "next edits %s", p.ghost_text and "on" or "off", ghost, p.next_edit and "on" or "off")
    or "off (:KimiPredict on starts it)")
end

function M.check()
  local options = require("kimi.config").options
  check_neovim()
  local status = check_server(options)
  check_key(options, status)
  check_roles(options, status)
  check_endpoint(options)
  check_definitions(options)
  check_prediction(options)
end

return M
