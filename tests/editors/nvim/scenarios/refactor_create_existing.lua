-- Finding 6 (issue 16): the refactor creates pkg/compat.py, and a file of that name appears
-- after the server answered (a server without `bases`, so only the CreateFile's options guard
-- it). Neovim's apply_workspace_edit would truncate it; :KimiRefactorApply must refuse the
-- refactor with a message and leave the file's content intact.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local app = H.open("pkg/app.py")
  local compat = H.workspace .. "/pkg/compat.py"
  local create
  H.on_refactor_result(function(r)
    r.bases = nil -- an older server: no bases to compare
    for _, change in ipairs(r.edit.documentChanges or {}) do
      if change.kind == "create" then
        create = change
      end
    end
    H.write_file(compat, "KEEP = 1\n")
  end)
  local refactor = require("kimi.refactor")
  vim.cmd("KimiRefactor rename Config to Settings")
  H.wait(40000, function()
    return refactor.current and refactor.current.diff_buf
  end, "the refactor's proposal")
  local listed
  for _, item in ipairs(vim.fn.getqflist()) do
    if vim.api.nvim_buf_get_name(item.bufnr) == compat then
      listed = item.text
    end
  end
  local app_before = H.text(app)
  vim.cmd("KimiRefactorApply")
  local loaded = vim.fn.bufnr(compat)
  return {
    create = create,
    listed = listed,
    refused = H.notified("pkg/compat.py already exists and the edit may not overwrite it") ~= nil,
    compat_disk = H.read_file(compat),
    compat_buffer = loaded ~= -1 and vim.api.nvim_buf_is_loaded(loaded) and H.text(loaded)
      or vim.NIL,
    app_unchanged = H.text(app) == app_before,
  }
end)
