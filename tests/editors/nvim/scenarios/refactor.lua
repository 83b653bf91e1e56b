-- :KimiRefactor rename Config to Settings: progress is shown while the agent works, the
-- proposal becomes a quickfix list (one entry per file) and a unified diff, nothing changes
-- until :KimiRefactorApply, which edits both files' buffers and creates pkg/compat.py (saved
-- here with :wall).
-- Then a second refactor is stopped with :KimiRefactorDiscard.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local app = H.open("pkg/app.py")
  local before = H.text(app)
  local refactor = require("kimi.refactor")
  vim.cmd("KimiRefactor rename Config to Settings")
  local state = H.wait(40000, function()
    local current = refactor.current
    return current and current.result and current.diff_buf and current
  end, "the refactor's proposal", function()
    return { progress = refactor.progress, notes = H.notes }
  end)
  local progress_notes = 0
  for _, note in ipairs(H.notes) do
    if note.message:find("^Kimi refactor: ") then
      progress_notes = progress_notes + 1
    end
  end
  local qf = vim.fn.getqflist({ title = 0, items = 0 })
  local items = {}
  for _, item in ipairs(qf.items) do
    local name = vim.api.nvim_buf_get_name(item.bufnr)
    items[#items + 1] = { file = vim.fs.relpath(H.workspace, name) or name, text = item.text }
  end
  local diff_buf = state.diff_buf
  local diff = table.concat(vim.api.nvim_buf_get_lines(diff_buf, 0, -1, false), "\n")
  local diff_filetype = vim.bo[diff_buf].filetype
  local unchanged = H.text(app) == before

  vim.cmd("KimiRefactorApply")
  local buffers, files = {}, {}
  for _, rel in ipairs({ "pkg/config.py", "pkg/app.py", "pkg/compat.py" }) do
    local bufnr = vim.fn.bufnr(H.workspace .. "/" .. rel)
    H.check(bufnr ~= -1, rel .. " has no buffer after the apply")
    buffers[rel] = H.text(bufnr)
  end
  vim.cmd("silent wall")
  for _, rel in ipairs({ "pkg/config.py", "pkg/app.py", "pkg/compat.py" }) do
    files[rel] = table.concat(vim.fn.readfile(H.workspace .. "/" .. rel), "\n") .. "\n"
  end
  local diff_closed = not vim.api.nvim_buf_is_valid(diff_buf)
  local after_apply = refactor.current ~= nil

  -- A second run, stopped by :KimiRefactorDiscard while the agent works.
  vim.cmd("KimiRefactor rename Config to Settings")
  H.wait(20000, function()
    return refactor.current and #refactor.progress > 0
  end, "the second refactor's progress")
  vim.cmd("KimiRefactorDiscard")

  return {
    progress = #refactor.progress,
    progress_notes = progress_notes,
    qf_title = qf.title,
    qf = items,
    diff = diff,
    diff_filetype = diff_filetype,
    unchanged_before_apply = unchanged,
    buffers = buffers,
    files = files,
    diff_closed = diff_closed,
    state = after_apply,
    discarded = {
      state = refactor.current ~= nil,
      notified = H.notified("refactor discarded") ~= nil,
    },
  }
end)
