-- :KimiChat with a slow answer, <C-c> in the chat buffer: the request is cancelled, the
-- server closes the upstream stream (the fake sees the client disconnect), the buffer stops
-- growing, and the next question still works.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

local function disconnected()
  for _, record in ipairs(H.control("/_control/requests")) do
    if record.outcome == "client_disconnected" then
      return record
    end
  end
end

H.run(function()
  H.setup()
  local source, client = H.open("calc.py")
  local chat = require("kimi.chat")
  vim.cmd("KimiChat Write a long answer please")
  local bufnr = chat.state.bufnr
  H.wait(20000, function()
    return H.text(bufnr):find("word2 ", 1, true)
  end, "the answer to start streaming")
  vim.api.nvim_set_current_win(vim.fn.bufwinid(bufnr))
  H.keys("<C-c>")
  -- Seen while Neovim and the server run (a hang guard, not a speed limit).
  local record = H.wait(30000, disconnected, "the fake API to see the client disconnect")
  local at_stop = H.text(bufnr)
  -- Anything the server streamed before answering this request has arrived once it answers.
  local status = client:request_sync("kimi/status", vim.empty_dict(), 30000, source)
  local later = H.text(bufnr)

  vim.cmd("KimiChat Short one now")
  H.wait(20000, function()
    return not chat.busy() and H.text(bufnr):find("Back again.", 1, true)
  end, "the next answer after stopping")
  return {
    outcome = record.outcome,
    events_sent = record.events_sent,
    stopped_text = at_stop,
    grew = later ~= at_stop,
    server_alive = status and status.result and status.result.version or vim.NIL,
    text = H.text(bufnr),
  }
end)
