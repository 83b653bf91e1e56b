-- :KimiEdit preview, then accept the hunks one at a time (ga): the first accepted hunk adds a
-- line, the other hunk stays shown (moved down with the text) and is accepted next.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local bufnr = H.open("calc.py")
  local edit = require("kimi.edit")
  local state, seen = H.preview(1, 6, "tweak both functions")
  local drawn = H.drawn(bufnr)
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  H.keys("ga")
  H.wait(20000, function()
    return not state.busy and state.shown[1] == false
  end, "the first accepted hunk", function()
    return { busy = state.busy, shown = state.shown }
  end)
  local after_one = H.drawn(bufnr)
  local text_one = H.text(bufnr)
  local still = edit.states[bufnr] == state
  vim.api.nvim_win_set_cursor(0, { after_one.removed[1] or 1, 0 })
  H.keys("ga")
  H.wait(20000, function()
    return edit.states[bufnr] == nil
  end, "the second accepted hunk")
  return {
    seen = seen,
    hunks = #state.edits,
    drawn = drawn,
    after_one = after_one,
    text_one = text_one,
    still = still,
    text = H.text(bufnr),
    marks = #vim.api.nvim_buf_get_extmarks(bufnr, require("kimi.preview").ns, 0, -1, {}),
    maps = vim.fn.maparg("ga", "n", false, true).buffer or 0,
  }
end)
