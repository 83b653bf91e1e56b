-- Issue 16 (finding 3, the plugin's side): a refactor whose changes carry the
-- kimiRefactorConfig annotation (editor/CI configuration, which can run commands; Neovim
-- ignores change annotations) is marked in the quickfix list and the diff, and
-- :KimiRefactorApply refuses it until confirmed with :KimiRefactorApply!.
-- The annotation is put on pkg/app.py's changes here, as the server marks such files.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local app = H.open("pkg/app.py")
  local app_uri = vim.uri_from_bufnr(app)
  H.on_refactor_result(function(r)
    r.edit.changeAnnotations = r.edit.changeAnnotations or {}
    r.edit.changeAnnotations.kimiRefactorConfig = {
      label = "Kimi refactor: editor or CI configuration",
      needsConfirmation = true,
      description = "can run commands",
    }
    for _, change in ipairs(r.edit.documentChanges or {}) do
      if change.textDocument and change.textDocument.uri == app_uri then
        for _, edit in ipairs(change.edits) do
          edit.annotationId = "kimiRefactorConfig"
        end
      end
    end
  end)
  local refactor = require("kimi.refactor")
  vim.cmd("KimiRefactor rename Config to Settings")
  local state = H.wait(40000, function()
    return refactor.current and refactor.current.diff_buf and refactor.current
  end, "the refactor's proposal")
  local diff = table.concat(vim.api.nvim_buf_get_lines(state.diff_buf, 0, -1, false), "\n")
  local qf = {}
  for _, item in ipairs(vim.fn.getqflist()) do
    qf[vim.fs.relpath(H.workspace, vim.api.nvim_buf_get_name(item.bufnr))] = item.text
  end
  local before = H.text(app)
  vim.cmd("KimiRefactorApply")
  local refused = H.notified("changes editor or CI configuration (pkg/app.py)") ~= nil
  local unchanged = H.text(app) == before and refactor.current ~= nil
  pcall(vim.cmd, "KimiRefactorApply!") -- (the pre-issue plugin has no !)
  return {
    diff_warns = diff:find("# WARNING: pkg/app.py is editor or CI configuration", 1, true) ~= nil,
    qf = qf,
    refused = refused,
    unchanged = unchanged,
    applied = H.text(app),
    state = refactor.current ~= nil,
  }
end)
