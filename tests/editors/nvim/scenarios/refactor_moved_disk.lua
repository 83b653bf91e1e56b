-- Finding 6 (issue 16): pkg/config.py (not loaded) changes on disk after the server computed
-- the refactor and before the preview is shown (two lines prepended). The edit was computed
-- against the old text, so :KimiRefactorApply must refuse it, naming the file, instead of
-- landing "class Settings:" two lines off; nothing is applied to any file.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local app = H.open("pkg/app.py")
  local config_py = H.workspace .. "/pkg/config.py"
  local moved = "import os\nimport sys\nclass Config:\n    debug = False\n"
  local result
  H.on_refactor_result(function(r)
    result = r
    H.write_file(config_py, moved)
  end)
  local refactor = require("kimi.refactor")
  vim.cmd("KimiRefactor rename Config to Settings")
  H.wait(40000, function()
    return refactor.current and refactor.current.diff_buf
  end, "the refactor's proposal")
  local app_before = H.text(app)
  vim.cmd("KimiRefactorApply")
  local loaded = vim.fn.bufnr(config_py)
  return {
    has_bases = type(result.bases) == "table",
    refused = H.notified("pkg/config.py changed since kimi computed the refactor") ~= nil,
    config_disk = H.read_file(config_py),
    config_buffer = loaded ~= -1 and vim.api.nvim_buf_is_loaded(loaded) and H.text(loaded)
      or vim.NIL,
    app_unchanged = H.text(app) == app_before,
    compat_exists = vim.uv.fs_stat(H.workspace .. "/pkg/compat.py") ~= nil,
    compat_loaded = H.loaded(H.workspace .. "/pkg/compat.py"),
    state = refactor.current ~= nil,
  }
end)
