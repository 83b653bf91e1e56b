-- :KimiEdit preview, then accept every hunk (gA).
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local bufnr = H.open("calc.py")
  local state, seen = H.preview(1, 6, "tweak both functions")
  H.keys("gA")
  H.wait(20000, function()
    return require("kimi.edit").states[bufnr] == nil
  end, "the accepted proposal")
  return {
    seen = seen,
    hunks = #state.edits,
    text = H.text(bufnr),
    marks = #vim.api.nvim_buf_get_extmarks(bufnr, require("kimi.preview").ns, 0, -1, {}),
  }
end)
