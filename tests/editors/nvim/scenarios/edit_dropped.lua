-- :KimiEdit preview, then the user edits a line of the proposal: the server sends
-- kimi/editDropped and the preview disappears with the server's reason.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local bufnr = H.open("calc.py")
  H.preview(1, 6, "tweak both functions")
  vim.api.nvim_buf_set_lines(bufnr, 1, 2, false, { "    return a - b  # mine" })
  H.wait(20000, function()
    return require("kimi.edit").states[bufnr] == nil
  end, "kimi/editDropped to clear the preview")
  local note = H.notified("changed the lines")
  return {
    text = H.text(bufnr),
    reason = note and note.message or vim.NIL,
    marks = #vim.api.nvim_buf_get_extmarks(bufnr, require("kimi.preview").ns, 0, -1, {}),
  }
end)
