-- Finding 6 (issue 16): kimi/refactor in "apply" mode, so the server sends the edit through
-- workspace/applyEdit (Neovim's default handler would truncate an existing file on its
-- CreateFile). pkg/compat.py appears on disk just before the client applies it: the kimi
-- client's handler refuses the edit, the file keeps its content, the server hears
-- applied = false.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local app, client = H.open("pkg/app.py")
  local compat = H.workspace .. "/pkg/compat.py"
  local method = "workspace/applyEdit"
  local kimi_handler = client.handlers[method] or vim.lsp.handlers[method]
  local seen
  client.handlers[method] = function(err, params, ctx)
    seen = vim.deepcopy(params.edit)
    H.write_file(compat, "KEEP = 1\n")
    local answer = kimi_handler(err, params, ctx)
    seen.answer = answer
    return answer
  end
  local done, result
  client:request("kimi/refactor", { instruction = "rename Config to Settings", mode = "apply" },
    function(err, r)
      done, result = true, err and { error = err.message } or r
    end)
  H.wait(40000, function()
    return done
  end, "the apply-mode refactor")
  local creates = {}
  for _, change in ipairs(seen and seen.documentChanges or {}) do
    if change.kind == "create" then
      creates[#creates + 1] = change
    end
  end
  local loaded = vim.fn.bufnr(compat)
  return {
    sent = seen ~= nil,
    creates = creates,
    answer = seen and seen.answer or vim.NIL,
    applied = result.applied,
    compat_disk = H.read_file(compat),
    compat_buffer = loaded ~= -1 and vim.api.nvim_buf_is_loaded(loaded) and H.text(loaded)
      or vim.NIL,
    app_text = H.text(app),
  }
end)
