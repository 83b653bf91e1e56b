-- Shared by the scenario scripts: loads the plugin from the repository, captures
-- vim.notify, waits with deadlines, and reports to the JSON result file pytest reads.
local H = {}

H.plugin = assert(os.getenv("KIMI_NVIM_PLUGIN"), "KIMI_NVIM_PLUGIN is not set")
H.result_file = assert(os.getenv("KIMI_TEST_RESULT"), "KIMI_TEST_RESULT is not set")
H.base_url = os.getenv("KIMI_TEST_BASE_URL")
H.workspace = os.getenv("KIMI_TEST_WORKSPACE")
H.python = os.getenv("KIMI_TEST_PYTHON") or "python3"
H.key = os.getenv("MOONSHOT_API_KEY")

--- Every vim.notify call: {message, level}.
H.notes = {}
vim.notify = function(message, level)
  H.notes[#H.notes + 1] = { message = tostring(message), level = level or vim.log.levels.INFO }
  io.stderr:write("notify[" .. tostring(level) .. "]: " .. tostring(message) .. "\n")
end

local function write_result(result)
  result.notes = H.notes
  local file = assert(io.open(H.result_file, "w"))
  file:write(vim.json.encode(result))
  file:close()
end

local function stop_clients()
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop(true)
  end
end

--- Record a failure and exit non-zero.
---@param message string
function H.fail(message)
  io.stderr:write("FAIL: " .. message .. "\n")
  write_result({ ok = false, error = message })
  stop_clients()
  vim.cmd("cquit 1")
end

--- Wait for `condition` (polled) or fail naming `what`.
---@param ms integer
---@param condition fun(): any
---@param what string
---@param describe? fun(): any  what to report on timeout
function H.wait(ms, condition, what, describe)
  local value
  local ok = vim.wait(ms, function()
    value = condition()
    return value
  end, 10)
  if not ok then
    local state = describe and ("; state: " .. vim.inspect(describe())) or ""
    error("timed out after " .. ms .. " ms waiting for " .. what .. state, 0)
  end
  return value
end

function H.check(condition, message)
  if not condition then
    error(message, 0)
  end
end

function H.eq(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    error(string.format("%s: expected %s, got %s", what, vim.inspect(expected),
      vim.inspect(actual)), 0)
  end
end

--- Load the plugin from the repository and call setup() against the fake API.
---@param extra? table  more setup() options
function H.setup(extra)
  vim.opt.runtimepath:prepend(H.plugin)
  vim.cmd.runtime("plugin/kimi.lua")
  local opts = vim.tbl_deep_extend("force", {
    settings = { baseUrl = H.base_url, maxRetries = 0 },
    log = { level = "debug" },
  }, extra or {})
  require("kimi").setup(opts)
end

--- Edit a file of the workspace and wait until the kimi client is attached and initialized.
---@param name string
---@return integer bufnr
---@return vim.lsp.Client client
function H.open(name)
  vim.cmd.edit(vim.fn.fnameescape(H.workspace .. "/" .. name))
  local bufnr = vim.api.nvim_get_current_buf()
  local client = H.wait(20000, function()
    local c = vim.lsp.get_clients({ name = "kimi", bufnr = bufnr })[1]
    return c and c.initialized and c or nil
  end, "the kimi client to attach and initialize")
  return bufnr, client
end

--- The buffer's text as the file would have it.
function H.text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n") .. "\n"
end

--- GET a path of the fake API's control endpoints (e.g. "/_control/requests").
function H.control(path)
  local url = H.base_url:gsub("/v1/?$", "") .. path
  local code = "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())"
  local result = vim.system({ H.python, "-c", code, url }, { text = true }):wait(10000)
  H.check(result.code == 0, "GET " .. url .. " failed: " .. tostring(result.stderr))
  return vim.json.decode(result.stdout)
end

--- Whether a notification containing `text` was shown.
function H.notified(text)
  for _, note in ipairs(H.notes) do
    if note.message:find(text, 1, true) then
      return note
    end
  end
  return nil
end

--- Whether a buffer of `path` is loaded (the quickfix list makes unloaded ones).
function H.loaded(path)
  local bufnr = vim.fn.bufnr(path)
  return bufnr ~= -1 and vim.api.nvim_buf_is_loaded(bufnr)
end

--- Write `text` to `path` (bytes as given).
function H.write_file(path, text)
  local file = assert(io.open(path, "wb"))
  file:write(text)
  file:close()
end

--- The bytes of `path` (nil when it does not exist).
function H.read_file(path)
  local file = io.open(path, "rb")
  if not file then
    return nil
  end
  local text = file:read("*a")
  file:close()
  return text
end

--- Call `hook(result)` with the kimi/refactor answer after the server sent it and before the
--- plugin sees it (what happens there happens "after the server answered").
---@param hook fun(result: table)
function H.on_refactor_result(hook)
  local lsp = require("kimi.lsp")
  local request = lsp.request
  lsp.request = function(client, method, params, on_result, bufnr)
    if method ~= "kimi/refactor" then
      return request(client, method, params, on_result, bufnr)
    end
    return request(client, method, params, function(result, err)
      if type(result) == "table" then
        hook(result)
      end
      on_result(result, err)
    end, bufnr)
  end
end

--- Type keys as the user would (mappings apply).
---@param keys string
function H.keys(keys)
  vim.api.nvim_feedkeys(vim.keycode(keys), "mx", false)
end

--- `:{first},{last}KimiEdit {instruction}` on the current buffer; waits for the proposal and
--- reports what the streamed preview looked like before the result arrived.
---@return kimi.EditState state
---@return table seen  {previews = extmark counts seen while streaming, virt_lines = max seen}
function H.preview(first, last, instruction)
  local bufnr = vim.api.nvim_get_current_buf()
  local edit = require("kimi.edit")
  local ns = require("kimi.preview").ns
  -- What the buffer showed after each streamed preview (before the result arrived).
  local seen = { streamed = 0, virt_lines = 0 }
  local on_preview = edit.on_preview
  edit.on_preview = function(err, params, ctx)
    on_preview(err, params, ctx)
    local current = edit.states[bufnr]
    if current and not current.edits then
      local marks = vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })
      local lines = 0
      for _, mark in ipairs(marks) do
        lines = lines + #(mark[4].virt_lines or {})
      end
      seen.streamed = seen.streamed + 1
      seen.virt_lines = math.max(seen.virt_lines, lines)
    end
  end
  vim.cmd(string.format("%d,%dKimiEdit %s", first, last, instruction))
  local state = H.wait(20000, function()
    local current = edit.states[bufnr]
    return current and current.edits and current
  end, "the proposal of :KimiEdit")
  edit.on_preview = on_preview
  return state, seen
end

--- What the preview shows now: removed rows (1-based) and added virtual lines (trimmed).
function H.drawn(bufnr)
  local ns = require("kimi.preview").ns
  local removed, added = {}, {}
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })) do
    local details = mark[4]
    if details.line_hl_group then
      removed[#removed + 1] = mark[2] + 1
    end
    for _, chunks in ipairs(details.virt_lines or {}) do
      added[#added + 1] = vim.trim(chunks[1][1])
    end
  end
  table.sort(removed)
  return { removed = removed, added = added }
end

--- Run the scenario; write {ok = true, data = ...} or the error, then exit.
---@param scenario fun(): table|nil
function H.run(scenario)
  local ok, data = xpcall(scenario, debug.traceback)
  if not ok then
    H.fail(tostring(data))
    return
  end
  write_result({ ok = true, data = data or {} })
  stop_clients()
  vim.cmd("qall!")
end

return H
