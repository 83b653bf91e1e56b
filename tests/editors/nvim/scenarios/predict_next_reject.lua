-- Next edits rejected: gr on one suggested hunk hides it (the others stay), gR rejects the rest;
-- the buffer keeps only the user's own edit and the server counted the rejections.
local P = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/predict_lib.lua")
local H = P.H

H.run(function()
  H.setup({ prediction = { ghost_text = false, next_edit_debounce_ms = 50 } })
  local bufnr, client = H.open("scale.py")
  local next_edit = require("kimi.predict.next_edit")
  local out = {}
  vim.api.nvim_win_set_cursor(0, { 1, 10 })
  P.insert("ciw", function()
    P.type("amount")
  end)
  local state = H.wait(30000, function()
    local s = next_edit.buffers[bufnr]
    return s and s.edits and s
  end, "the next-edit suggestion")
  out.hunks = #state.edits
  H.keys("]k")
  H.keys("gr")
  out.after_one = H.drawn(bufnr)
  H.keys("gR")
  out.after_all = H.drawn(bufnr)
  out.text = H.text(bufnr)
  out.prediction = H.wait(10000, function()
    local p = P.status(client).prediction
    return p and p.rejected >= out.hunks and p
  end, "the server to count the rejections", function()
    return P.status(client).prediction
  end)
  -- Asked again at once: the rejected edits do not come back.
  vim.cmd("KimiNextEdit")
  out.again = H.wait(30000, function()
    local s = next_edit.buffers[bufnr]
    return s.request_id == nil and next_edit.sent >= 2 and { edits = s.edits and #s.edits or 0 }
  end, "the second answer")
  return out
end)
