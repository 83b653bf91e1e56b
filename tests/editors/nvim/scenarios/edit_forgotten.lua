-- :KimiEdit preview; the server forgets the proposal (here: rejected behind the plugin's
-- back); accepting it then says why and clears the preview, because the result's code says
-- the server no longer holds it (whatever the sentence beside it).
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local bufnr, client = H.open("calc.py")
  local edit = require("kimi.edit")
  local state = H.preview(1, 6, "tweak both functions")
  local rejected = client:request_sync("kimi/rejectEdit", { editId = state.edit_id }, 5000, bufnr)
  H.check(edit.states[bufnr] == state, "the preview went away before the accept")
  H.keys("gA")
  H.wait(20000, function()
    return edit.states[bufnr] == nil
  end, "the refused accept to clear the preview")
  local note = H.notified("not applied:")
  return {
    rejected = rejected and rejected.result or vim.NIL,
    note = note and note.message or vim.NIL,
    text = H.text(bufnr),
    marks = #vim.api.nvim_buf_get_extmarks(bufnr, require("kimi.preview").ns, 0, -1, {}),
    forgot = {
      expired = edit.server_forgot({ applied = false, code = "expired" }),
      closed = edit.server_forgot({ applied = false, code = "document_closed" }),
      refused = edit.server_forgot({ applied = false, code = "client_refused" }),
      sentence_only = edit.server_forgot({ applied = false, reason = "no longer pending" }),
    },
  }
end)
