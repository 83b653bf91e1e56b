-- Next edits: renaming a parameter on a function's first line (in insert mode, as typed) brings
-- a suggestion for its other uses after the edit pause; ]k jumps to each, ga accepts it, the
-- buffer ends renamed and the server counted both acceptances.
local P = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/predict_lib.lua")
local H = P.H

H.run(function()
  -- Ghost text on too, as a user has it: the next edits come once no ghost text is on its way.
  H.setup({ prediction = { next_edit_debounce_ms = 50 } })
  local bufnr, client = H.open("scale.py")
  local next_edit = require("kimi.predict.next_edit")
  local out = {}
  vim.api.nvim_win_set_cursor(0, { 1, 10 }) -- on "value"
  P.insert("ciw", function()
    P.type("amount")
  end)
  local state = H.wait(30000, function()
    local s = next_edit.buffers[bufnr]
    return s and s.edits and s
  end, "the next-edit suggestion", function()
    return { sent = next_edit.sent, lines = P.lines(bufnr) }
  end)
  out.hunks = #state.edits
  out.versions = vim.tbl_map(function(edit)
    return edit.range.start.line
  end, state.edits)
  out.drawn = H.drawn(bufnr)
  out.maps = vim.tbl_map(function(m)
    return m.lhs
  end, vim.api.nvim_buf_get_keymap(bufnr, "n"))
  H.keys("]k")
  out.jump1 = vim.api.nvim_win_get_cursor(0)
  H.keys("ga")
  out.after_one = P.lines(bufnr)
  out.drawn_one = H.drawn(bufnr)
  H.keys("]k")
  out.jump2 = vim.api.nvim_win_get_cursor(0)
  H.keys("ga")
  out.text = H.text(bufnr)
  out.left = next_edit.buffers[bufnr].edits == nil
  out.marks = #vim.api.nvim_buf_get_extmarks(bufnr, require("kimi.preview").ns, 0, -1, {})
  out.maps_after = #vim.tbl_filter(function(m)
    return m.lhs == "ga" or m.lhs == "]k"
  end, vim.api.nvim_buf_get_keymap(bufnr, "n"))
  out.prediction = H.wait(10000, function()
    local p = P.status(client).prediction
    return p and p.accepted >= 2 and p
  end, "the server to count the acceptances", function()
    return P.status(client).prediction
  end)
  return out
end)
