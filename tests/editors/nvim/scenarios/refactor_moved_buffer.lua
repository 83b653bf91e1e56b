-- Finding 6 (issue 16): the loaded buffer of pkg/app.py changes after the server computed the
-- refactor and before the preview is shown. :KimiRefactorApply must compare the buffer's text
-- (as the client syncs it) with the server's base and refuse the whole refactor, naming the
-- file: nothing lands in pkg/config.py or pkg/compat.py either.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local app = H.open("pkg/app.py")
  local result
  H.on_refactor_result(function(r)
    result = r
    vim.api.nvim_buf_set_lines(app, 0, 0, false, { "# typed while kimi answered" })
  end)
  local refactor = require("kimi.refactor")
  vim.cmd("KimiRefactor rename Config to Settings")
  H.wait(40000, function()
    return refactor.current and refactor.current.diff_buf
  end, "the refactor's proposal")
  local app_before = H.text(app)
  vim.cmd("KimiRefactorApply")
  local config_py = H.workspace .. "/pkg/config.py"
  local loaded = vim.fn.bufnr(config_py)
  return {
    has_bases = type(result.bases) == "table",
    refused = H.notified("pkg/app.py changed since kimi computed the refactor") ~= nil,
    applied_note = H.notified("applied to") ~= nil,
    app_unchanged = H.text(app) == app_before,
    config_disk = H.read_file(config_py),
    config_buffer = loaded ~= -1 and vim.api.nvim_buf_is_loaded(loaded) and H.text(loaded)
      or vim.NIL,
    compat_loaded = H.loaded(H.workspace .. "/pkg/compat.py"),
  }
end)
