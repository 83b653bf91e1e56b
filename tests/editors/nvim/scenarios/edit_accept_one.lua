-- :KimiEdit preview, then accept only the hunk under the cursor (ga): the buffer gets exactly
-- that hunk, the preview disappears.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local bufnr = H.open("calc.py")
  local state, seen = H.preview(1, 6, "tweak both functions")
  local drawn = H.drawn(bufnr)
  vim.api.nvim_win_set_cursor(0, { 6, 0 })
  H.keys("ga")
  H.wait(20000, function()
    return require("kimi.edit").states[bufnr] == nil
  end, "the accepted hunk")
  return {
    seen = seen,
    hunks = #state.edits,
    drawn = drawn,
    text = H.text(bufnr),
    marks = #vim.api.nvim_buf_get_extmarks(bufnr, require("kimi.preview").ns, 0, -1, {}),
    maps = vim.fn.maparg("ga", "n", false, true).buffer or 0,
  }
end)
