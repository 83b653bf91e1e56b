-- Code actions: textDocument/codeAction lists the "Kimi: …" actions; through
-- vim.lsp.buf.code_action, "Kimi: edit selection…" asks for an instruction and shows a preview
-- (accepted with :KimiAcceptAll), and "Kimi: fix …" runs in the server, which applies the fix
-- with workspace/applyEdit.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local bufnr, client = H.open("calc.py")
  local uri = vim.uri_from_bufnr(bufnr)
  local diagnostic = {
    range = { start = { line = 1, character = 11 }, ["end"] = { line = 1, character = 16 } },
    message = "suspicious subtraction",
    source = "lint",
  }
  local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", {
    textDocument = { uri = uri },
    range = diagnostic.range,
    context = { diagnostics = { diagnostic } },
  }, 5000)
  local titles = {}
  for _, response in pairs(responses or {}) do
    for _, action in ipairs(response.result or {}) do
      titles[#titles + 1] = action.title
    end
  end

  -- "Kimi: edit selection…" from the menu, with the instruction typed at the prompt.
  local prompted
  vim.ui.input = function(opts, on_confirm)
    prompted = opts.prompt
    on_confirm("fix the subtraction")
  end
  vim.api.nvim_win_set_cursor(0, { 2, 4 })
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.title == "Kimi: edit selection…"
    end,
  })
  local edit = require("kimi.edit")
  H.wait(20000, function()
    local state = edit.states[bufnr]
    return state and state.edits
  end, "the proposal of the code action")
  vim.cmd("KimiAcceptAll")
  local after_edit = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
  H.wait(20000, function()
    return edit.states[bufnr] == nil
  end, "the accepted proposal to be settled")
  H.eq(H.text(bufnr), after_edit, "the buffer after accepting")

  -- "Kimi: fix …" runs in the server (apply mode): it sends workspace/applyEdit.
  local fix_diagnostic = {
    range = { start = { line = 5, character = 11 }, ["end"] = { line = 5, character = 16 } },
    message = "should double",
    source = "lint",
  }
  vim.api.nvim_win_set_cursor(0, { 6, 11 })
  vim.lsp.buf.code_action({
    apply = true,
    context = { diagnostics = { fix_diagnostic } },
    filter = function(action)
      return action.title:find("^Kimi: fix") ~= nil
    end,
  })
  local after_fix = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b * 2\n"
  H.wait(20000, function()
    return H.text(bufnr) == after_fix
  end, "the server's fix applied through workspace/applyEdit", function()
    return H.text(bufnr)
  end)

  return {
    titles = titles,
    prompt = prompted,
    client = client.name,
    text = H.text(bufnr),
    marks = #vim.api.nvim_buf_get_extmarks(bufnr, require("kimi.preview").ns, 0, -1, {}),
  }
end)
