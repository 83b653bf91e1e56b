--- `:KimiChat [message]`: a markdown chat buffer. Answers stream in from kimi/chatDelta,
--- follow-ups continue the conversation, reasoning is folded, <C-c> stops the answer.
local config = require("kimi.config")
local log = require("kimi.log")
local protocol = require("kimi.protocol")

local M = {}

local YOU, KIMI = "## You", "## Kimi"

---@class kimi.ChatRequest
---@field client_id integer
---@field id integer|nil              the JSON-RPC request id, for cancelling
---@field phase "reasoning"|"content"|nil  what the last delta was
---@field reasoning_row integer|nil   0-based first row of the reasoning being written
---@field received integer            characters of content received

---@class kimi.ChatState
---@field bufnr integer|nil
---@field conversation_id string|nil
---@field request kimi.ChatRequest|nil
---@field source {bufnr: integer, range: lsp.Range|nil}|nil  the file the questions are about
M.state = { bufnr = nil, conversation_id = nil, request = nil, source = nil }

local function valid()
  return M.state.bufnr ~= nil and vim.api.nvim_buf_is_valid(M.state.bufnr)
end

local function windows()
  if not valid() then
    return {}
  end
  return vim.fn.win_findbuf(M.state.bufnr)
end

--- Append `text` at the very end of the chat buffer; windows showing the end follow it.
---@param text string
local function append(text)
  local bufnr = M.state.bufnr
  if not valid() or text == "" then
    return
  end
  local last = vim.api.nvim_buf_line_count(bufnr) - 1
  local line = vim.api.nvim_buf_get_lines(bufnr, last, last + 1, false)[1] or ""
  local following = {}
  for _, win in ipairs(windows()) do
    following[win] = vim.api.nvim_win_get_cursor(win)[1] >= last
  end
  vim.api.nvim_buf_set_text(bufnr, last, #line, last, #line, vim.split(text, "\n", { plain = true }))
  local count = vim.api.nvim_buf_line_count(bufnr)
  local current, inserting = vim.api.nvim_get_current_win(), vim.fn.mode() == "i"
  for win, follow in pairs(following) do
    if follow and (win ~= current or not inserting) then
      pcall(vim.api.nvim_win_set_cursor, win, { count, 0 })
    end
  end
end

local function set_keymaps(bufnr)
  local keys = config.options.keymaps.chat
  local function map(mode, lhs, fn, desc)
    if lhs then
      vim.keymap.set(mode, lhs, fn, { buffer = bufnr, desc = desc })
    end
  end
  map("n", keys.submit_normal, M.submit, "Kimi: send the message")
  map("i", keys.submit_insert, function()
    vim.cmd.stopinsert()
    M.submit()
  end, "Kimi: send the message")
  map("n", keys.stop, M.stop, "Kimi: stop the answer")
  map("i", keys.stop, function()
    if M.busy() then
      M.stop()
    else
      vim.cmd.stopinsert() -- what <C-c> does otherwise
    end
  end, "Kimi: stop the answer")
  map("n", keys.close, function()
    if not pcall(vim.api.nvim_win_close, 0, false) then
      vim.cmd("silent! buffer #") -- the last window: show the previous buffer instead
    end
  end, "Kimi: close the chat")
end

---@return integer bufnr
local function buffer()
  if valid() then
    return M.state.bufnr
  end
  local bufnr = vim.api.nvim_create_buf(false, true)
  vim.bo[bufnr].buftype = "nofile"
  vim.bo[bufnr].bufhidden = "hide"
  vim.bo[bufnr].swapfile = false
  vim.api.nvim_buf_set_name(bufnr, "kimi://chat")
  vim.bo[bufnr].filetype = "markdown"
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, { YOU, "" })
  set_keymaps(bufnr)
  M.state.bufnr = bufnr
  M.state.conversation_id = nil
  return bufnr
end

---@return integer win
local function open_window()
  local bufnr = buffer()
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if vim.api.nvim_win_get_buf(win) == bufnr then
      vim.api.nvim_set_current_win(win)
      return win
    end
  end
  local chat = config.options.chat
  local function size(total)
    return chat.size < 1 and math.floor(total * chat.size) or math.floor(chat.size)
  end
  if chat.layout == "vertical" then
    vim.cmd("botright vsplit")
    vim.api.nvim_win_set_width(0, size(vim.o.columns))
  elseif chat.layout == "horizontal" then
    vim.cmd("botright split")
    vim.api.nvim_win_set_height(0, size(vim.o.lines))
  elseif chat.layout == "tab" then
    vim.cmd("tabnew")
  end
  local win = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(win, bufnr)
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  vim.wo[win].foldmethod = "manual"
  vim.wo[win].foldenable = true
  vim.wo[win].number = false
  vim.wo[win].relativenumber = false
  return win
end

--- The message typed under the last "## You" heading.
---@return string message
---@return integer row  0-based row of that heading (-1 when there is none)
local function typed_message()
  local lines = vim.api.nvim_buf_get_lines(M.state.bufnr, 0, -1, false)
  for i = #lines, 1, -1 do
    if lines[i] == YOU then
      return vim.trim(table.concat(vim.list_slice(lines, i + 1), "\n")), i - 1
    end
  end
  return "", -1
end

--- Fold the finished reasoning in every window that shows the chat.
local function close_reasoning(request)
  if request.phase ~= "reasoning" or not request.reasoning_row then
    return
  end
  request.phase = nil
  -- Fold once the reasoning is complete and something follows it: splitting a fold's last
  -- line later would shrink the fold.
  append("\n\n")
  local first = request.reasoning_row + 1
  local last = vim.api.nvim_buf_line_count(M.state.bufnr) - 2
  if config.options.chat.fold_reasoning and last >= first then
    for _, win in ipairs(windows()) do
      vim.api.nvim_win_call(win, function()
        if vim.wo.foldmethod == "manual" then
          vim.cmd(string.format("silent! %d,%dfold", first, last))
        end
      end)
    end
  end
end

---@param usage table|nil
---@return string
local function footer(usage, finish)
  usage = usage or {}
  local parts = {}
  -- The model that answered (a fallback's, when one served), else the configured one.
  local model = type(usage.model) == "string" and usage.model ~= "" and usage.model
    or require("kimi.status").state.model
  if model then
    parts[#parts + 1] = model .. (usage.fallback == true and " (fallback)" or "")
  end
  parts[#parts + 1] = string.format("%s in (%s cached) · %s out%s",
    protocol.count(usage.promptTokens), protocol.count(usage.cachedTokens),
    protocol.count(usage.completionTokens), usage.estimated == true and " (estimated)" or "")
  parts[#parts + 1] = protocol.money(usage.cost, usage.currency)
  if finish and finish ~= "stop" and finish ~= "local" then
    parts[#parts + 1] = "finish: " .. tostring(finish)
  end
  return "_" .. table.concat(parts, " · ") .. "_"
end

local function finish(request, result, err)
  if M.state.request ~= request then
    return -- stopped meanwhile
  end
  M.state.request = nil
  require("kimi.status").busy(-1)
  close_reasoning(request)
  if err or type(result) ~= "table" then
    local message = type(err) == "table" and err.message or "the request failed"
    append("\n\n_Error: " .. tostring(message) .. "_\n\n" .. YOU .. "\n")
    return
  end
  M.state.conversation_id = result.conversationId or M.state.conversation_id
  if request.received == 0 and type(result.content) == "string" then
    append(result.content)
  end
  append("\n\n" .. footer(result.usage, result.finishReason) .. "\n\n" .. YOU .. "\n")
end

--- kimi/chatDelta
function M.on_delta(_, params, ctx)
  local request = M.state.request
  if not request or type(params) ~= "table" or not valid() then
    return
  end
  if ctx and ctx.client_id ~= request.client_id then
    return
  end
  local conversation = M.state.conversation_id
  if conversation and params.conversationId ~= conversation then
    return -- another conversation's answer (e.g. a command run elsewhere)
  end
  M.state.conversation_id = params.conversationId
  local text = params.text or ""
  if params.kind == "reasoning" then
    if request.phase ~= "reasoning" then
      request.phase = "reasoning"
      request.reasoning_row = vim.api.nvim_buf_line_count(M.state.bufnr) - 1
      append("> ")
    end
    append((text:gsub("\n", "\n> ")))
  else
    close_reasoning(request)
    request.phase = "content"
    request.received = request.received + #text
    append(text)
  end
end

--- Send `message` (already in the buffer under the last "## You") in the conversation.
---@param message string
local function send(message)
  local source = M.state.source
  local source_buf = source and vim.api.nvim_buf_is_valid(source.bufnr) and source.bufnr or nil
  local lsp = require("kimi.lsp")
  lsp.with_client(source_buf, false, function(client)
    if M.state.request then
      return
    end
    local params = { message = message, context = config.options.chat.context }
    params.conversationId = M.state.conversation_id
    if source_buf and vim.lsp.buf_is_attached(source_buf, client.id) then
      params.textDocument = { uri = protocol.uri(source_buf) }
      params.range = source.range
    end
    if source then
      source.range = nil -- a selection goes with the question asked about it, not the next ones
    end
    append("\n\n" .. KIMI .. "\n\n")
    ---@type kimi.ChatRequest
    local request = { client_id = client.id, received = 0 }
    M.state.request = request
    require("kimi.status").busy(1)
    local definitions = require("kimi.definitions")
    local function go(located)
      if M.state.request ~= request then
        return -- stopped while the definitions were looked up
      end
      definitions.attach(params, located)
      request.id = lsp.request(client, "kimi/chat", params, function(result, err)
        finish(request, result, err)
      end, source_buf)
      if not request.id then
        finish(request, nil, { message = "the server is not running" })
      end
    end
    if params.textDocument and params.context ~= "none" then
      local win = vim.fn.bufwinid(source_buf)
      local cursor = win ~= -1 and vim.api.nvim_win_get_cursor(win)[1] - 1 or nil
      definitions.around(source_buf, params.range, cursor, go)
    else
      go({})
    end
  end)
end

--- Send what is typed under the last "## You".
function M.submit()
  if not valid() then
    return
  end
  if M.state.request then
    local stop = config.options.keymaps.chat.stop
    log.notify("Kimi is still answering: stop it first (" .. tostring(stop) .. ").", "warn")
    return
  end
  local message = typed_message()
  if message == "" then
    log.notify("type a question under " .. YOU .. " first.", "warn")
    return
  end
  send(message)
end

--- Stop the answer being written: cancels the request, so the server closes the stream.
function M.stop()
  local request = M.state.request
  if not request then
    return
  end
  M.state.request = nil
  require("kimi.status").busy(-1)
  local client = vim.lsp.get_client_by_id(request.client_id)
  if client and request.id then
    require("kimi.lsp").cancel(client, request.id)
  end
  close_reasoning(request)
  append("\n\n_(stopped)_\n\n" .. YOU .. "\n")
end

--- Whether an answer is being written.
---@return boolean
function M.busy()
  return M.state.request ~= nil
end

--- Open the chat and ask `message` about `source` (a buffer, and a range in it).
---@param message string|nil  nil or "" just opens the chat
---@param source {bufnr: integer, range: lsp.Range|nil}|nil
function M.ask(message, source)
  if source and source.bufnr and vim.api.nvim_buf_is_valid(source.bufnr)
    and source.bufnr ~= M.state.bufnr then
    M.state.source = { bufnr = source.bufnr, range = source.range }
  end
  open_window()
  local bufnr = M.state.bufnr
  message = vim.trim(message or "")
  if message == "" then
    vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(bufnr), 0 })
    return
  end
  if M.state.request then
    log.notify("Kimi is still answering: stop it first.", "warn")
    return
  end
  local _, row = typed_message()
  if row < 0 then
    append("\n\n" .. YOU .. "\n")
    _, row = typed_message()
  end
  vim.api.nvim_buf_set_lines(bufnr, row + 1, -1, false, vim.split(message, "\n", { plain = true }))
  vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(bufnr), 0 })
  send(message)
end

--- Start over: a new conversation in an empty chat buffer.
function M.new()
  M.stop()
  if valid() then
    vim.api.nvim_buf_set_lines(M.state.bufnr, 0, -1, false, { YOU, "" })
  end
  M.state.conversation_id = nil
end

--- :[range]KimiChat[!] [message]
---@param opts table  the user command's opts
function M.command(opts)
  if opts.bang then
    M.new()
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local source = nil
  if bufnr ~= M.state.bufnr then
    source = { bufnr = bufnr }
    if opts.range > 0 then
      source.range = protocol.line_range(opts.line1, opts.line2)
    end
  end
  M.ask(opts.args, source)
end

return M
