-- :KimiEdit preview; drop one hunk (gr), then reject the rest (gR): the buffer is unchanged
-- and the server no longer holds the proposal.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local bufnr, client = H.open("calc.py")
  local before = H.text(bufnr)
  local state = H.preview(1, 6, "tweak both functions")
  local edit_id = state.edit_id
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  H.keys("gr")
  local after_one = H.drawn(bufnr)
  H.keys("gR")
  H.check(require("kimi.edit").states[bufnr] == nil, "the proposal is still shown after gR")
  -- The server forgot it: accepting it now applies nothing.
  local response = client:request_sync("kimi/acceptEdit", { editId = edit_id }, 30000, bufnr)
  -- Nothing may arrive late either: whatever the server sent before this answer has arrived.
  client:request_sync("kimi/status", vim.empty_dict(), 30000, bufnr)
  return {
    after_one = after_one,
    text = H.text(bufnr),
    unchanged = H.text(bufnr) == before,
    late_accept = response and response.result or vim.NIL,
    marks = #vim.api.nvim_buf_get_extmarks(bufnr, require("kimi.preview").ns, 0, -1, {}),
  }
end)
