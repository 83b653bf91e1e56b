-- A second real language server (jedi-language-server) attached next to kimi: :KimiContext and
-- :KimiChat send `definitions` it located for the identifiers near the cursor. Reports the
-- params the kimi client sent and what the server's manifest made of them.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup({ definitions = { timeout_ms = tonumber(os.getenv("KIMI_TEST_DEFINITIONS_MS")) } })
  vim.api.nvim_create_autocmd("FileType", {
    pattern = "python",
    callback = function(args)
      vim.lsp.start({
        name = "jedi",
        cmd = { os.getenv("KIMI_TEST_JEDI") },
        root_dir = H.workspace,
      }, { bufnr = args.buf })
    end,
  })
  local bufnr, kimi = H.open("app/main.py")
  H.wait(20000, function()
    local jedi = vim.lsp.get_clients({ name = "jedi", bufnr = bufnr })[1]
    return jedi and jedi.initialized
  end, "jedi-language-server to attach and initialize")

  -- Record what the kimi client sends.
  local sent = {}
  local request = kimi.request
  kimi.request = function(self, method, params, ...)
    if method:find("^kimi/") then
      sent[method] = vim.deepcopy(params)
    end
    return request(self, method, params, ...)
  end
  local manifest
  local context = require("kimi.context")
  context.float = function() end
  local describe = context.describe
  context.describe = function(result, purpose)
    manifest = result
    return describe(result, purpose)
  end

  vim.api.nvim_win_set_cursor(0, { 5, 4 }) -- in `total = area(Circle(2.0))`
  local started = vim.uv.hrtime()
  vim.cmd("KimiContext chat")
  H.wait(20000, function()
    return manifest
  end, "the kimi/context manifest")
  local lookup_ms = (vim.uv.hrtime() - started) / 1e6

  local first = { sent = sent["kimi/context"], manifest = manifest }

  vim.cmd("KimiChat What does total hold?")
  local chat = require("kimi.chat")
  H.wait(20000, function()
    return sent["kimi/chat"] and not chat.busy()
  end, "the chat answer")

  -- Turned off: nothing is looked up.
  vim.cmd("wincmd p")
  require("kimi.config").options.definitions.enabled = false
  sent["kimi/context"], manifest = nil, nil
  vim.cmd("KimiContext chat")
  H.wait(20000, function()
    return manifest
  end, "the second manifest")
  return {
    context = first.sent,
    manifest = first.manifest,
    chat = sent["kimi/chat"],
    off = sent["kimi/context"],
    lookup_ms = lookup_ms,
  }
end)
