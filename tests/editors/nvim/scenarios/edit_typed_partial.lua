-- :KimiEdit preview of lines 1-6 of partial.py, `ga` on its first hunk (which changes the length
-- of line 2), then typing (issue 19): inside the rest of the preview (KIMI_TEST_CASE=inside: the
-- server drops it) or just after its lines (KIMI_TEST_CASE=after: it stays, `ga` applies the rest).
-- Both depend on the server moving the range's end by what the accepted hunk added or removed.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  -- Typing in insert mode: no edit prediction here (the fake API is scripted for the edit only).
  H.setup({ settings = { prediction = { enabled = false } } })
  local bufnr, client = H.open("partial.py")
  local edit = require("kimi.edit")
  local state = H.preview(1, 6, "change the comment")
  local result = { hunks = #state.edits, drawn = H.drawn(bufnr) }
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  H.keys("ga")
  H.wait(20000, function()
    return not state.busy and state.shown[1] == false
  end, "the first accepted hunk", function()
    return { busy = state.busy, shown = state.shown }
  end)
  result.after_one = H.drawn(bufnr)
  result.text_one = H.text(bufnr)

  local case = os.getenv("KIMI_TEST_CASE")
  if case == "inside" then
    vim.api.nvim_win_set_cursor(0, { 5, 0 }) -- `def mul(a, b):`, 18 characters before the end
    H.keys("A  # note<Esc>")
  else
    vim.api.nvim_win_set_cursor(0, { 9, 0 }) -- `TOTAL = …`, 2 characters after the end
    H.keys("i_<Esc>")
  end
  result.typed = H.text(bufnr)
  -- Once the server answers a later request it has seen the change (a drop is sent before).
  local status = client:request_sync("kimi/status", vim.empty_dict(), 10000, bufnr)
  H.check(status and status.result, "kimi/status did not answer")
  if case == "inside" then
    H.wait(10000, function()
      return edit.states[bufnr] == nil
    end, "kimi/editDropped to clear the preview", function()
      return H.drawn(bufnr)
    end)
    local note = H.notified("changed the lines")
    result.reason = note and note.message or vim.NIL
    local late = client:request_sync("kimi/acceptEdit", { editId = state.edit_id, hunks = { 1 } }, 5000, bufnr)
    result.late_accept = late and late.result or vim.NIL
  else
    result.kept = edit.states[bufnr] == state
    result.after_typing = H.drawn(bufnr)
    vim.api.nvim_win_set_cursor(0, { result.after_typing.removed[1] or 1, 0 })
    H.keys("ga")
    H.wait(20000, function()
      return edit.states[bufnr] == nil
    end, "the second accepted hunk")
  end
  result.text = H.text(bufnr)
  result.marks = #vim.api.nvim_buf_get_extmarks(bufnr, require("kimi.preview").ns, 0, -1, {})
  return result
end)
