-- :KimiChat streams the answer into the chat buffer (reasoning folded, cost in the footer);
-- a follow-up typed under "## You" and sent with <CR> continues the conversation.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  H.open("calc.py")
  local chat = require("kimi.chat")
  -- What the buffer showed after each streamed piece of the answer (before the result).
  local partial = false
  local on_delta = chat.on_delta
  chat.on_delta = function(err, params, ctx)
    on_delta(err, params, ctx)
    if params.kind == "content" and chat.busy() then
      local text = H.text(chat.state.bufnr)
      partial = partial or (text:find("The bug", 1, true) ~= nil and not text:find("`.", 1, true))
    end
  end
  vim.cmd("KimiChat What is wrong here?")
  local bufnr = chat.state.bufnr
  H.wait(20000, function()
    return not chat.busy() and H.text(bufnr):find("_\n\n## You\n\n$")
  end, "the first answer", function()
    return H.text(bufnr)
  end)
  local first = H.text(bufnr)
  local conversation = chat.state.conversation_id
  local win = vim.fn.bufwinid(bufnr)
  local folded = {}
  for row, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    if line:find("It subtracts", 1, true) or line:find("Look at add", 1, true) then
      folded[#folded + 1] = vim.api.nvim_win_call(win, function()
        return vim.fn.foldclosed(row)
      end)
    end
  end

  -- The follow-up, typed in the chat buffer.
  vim.api.nvim_set_current_win(win)
  vim.api.nvim_buf_set_lines(bufnr, -2, -1, false, { "And how do I fix it?" }) -- on the empty line
  H.keys("<CR>")
  H.wait(20000, function()
    local text = H.text(bufnr)
    return not chat.busy() and text:find("Use a plus.", 1, true) and text:find("## You\n\n$")
  end, "the second answer")
  return {
    partial = partial,
    first = first,
    text = H.text(bufnr),
    conversation = conversation,
    same_conversation = chat.state.conversation_id == conversation,
    filetype = vim.bo[bufnr].filetype,
    folded = folded,
  }
end)
