-- The user adds lines above the range while the model writes: the preview follows the range,
-- and accepting lands the hunk where it belongs (the server rebases it).
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local bufnr = H.open("calc.py")
  local edit = require("kimi.edit")
  vim.cmd("5,6KimiEdit multiply by one")
  H.wait(15000, function()
    local state = edit.states[bufnr]
    return state and state.edit_id and not state.edits
  end, "the first streamed preview")
  vim.api.nvim_buf_set_lines(bufnr, 0, 0, false, { "import math", "" })
  local state = H.wait(15000, function()
    local s = edit.states[bufnr]
    return s and s.edits and s
  end, "the proposal")
  local drawn = H.drawn(bufnr)
  vim.api.nvim_win_set_cursor(0, { 8, 0 })
  H.keys("ga")
  H.wait(10000, function()
    return edit.states[bufnr] == nil
  end, "the accepted hunk")
  return { hunks = #state.edits, drawn = drawn, text = H.text(bufnr) }
end)
