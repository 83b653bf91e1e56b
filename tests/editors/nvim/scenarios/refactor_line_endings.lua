-- The bases check refuses nothing that did not move: pkg/app.py loaded with CRLF endings
-- and no final newline ('fileformat' dos, 'noeol'), pkg/config.py not loaded, CRLF and no
-- final newline; their hashes match what the server computed the edit from, so
-- :KimiRefactorApply applies.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local app = H.open("pkg/app.py")
  local result
  H.on_refactor_result(function(r)
    result = r
  end)
  local refactor = require("kimi.refactor")
  vim.cmd("KimiRefactor rename Config to Settings")
  H.wait(40000, function()
    return refactor.current and refactor.current.diff_buf
  end, "the refactor's proposal")
  vim.cmd("KimiRefactorApply")
  vim.cmd("silent wall")
  return {
    fileformat = vim.bo[app].fileformat,
    bases = result.bases,
    applied = H.notified("applied to 3 file(s)") ~= nil,
    app = H.read_file(H.workspace .. "/pkg/app.py"),
    config = H.read_file(H.workspace .. "/pkg/config.py"),
  }
end)
