-- The user adds lines above the range while the model writes: the preview follows the range,
-- and accepting lands the hunk where it belongs (the server rebases it).
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local bufnr = H.open("calc.py")
  local edit = require("kimi.edit")
  -- At the first streamed preview (the model is still writing), the user adds two lines at
  -- the top of the file.
  local on_preview = edit.on_preview
  local typed = false
  edit.on_preview = function(err, params, ctx)
    on_preview(err, params, ctx)
    if not typed then
      typed = true
      vim.api.nvim_buf_set_lines(bufnr, 0, 0, false, { "import math", "" })
    end
  end
  vim.cmd("5,6KimiEdit multiply by one")
  local state = H.wait(20000, function()
    local s = edit.states[bufnr]
    return s and s.edits and s
  end, "the proposal")
  local drawn = H.drawn(bufnr)
  vim.api.nvim_win_set_cursor(0, { 8, 0 })
  H.keys("ga")
  H.wait(20000, function()
    return edit.states[bufnr] == nil
  end, "the accepted hunk")
  return { hunks = #state.edits, drawn = drawn, text = H.text(bufnr) }
end)
