-- Shared by the predict_* scenarios (run with `nvim --headless -S`, not `-l`: only then does
-- Neovim wait for keys in insert mode, as it does for a user): type into a real insert mode
-- and wait on conditions in between, from a coroutine resumed by a timer while Neovim sits in
-- insert mode waiting for the next key.
local dir = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(dir .. "/harness.lua")

local P = { H = H }

local POLL_MS = 10

--- Run `steps` in insert mode, entered with `enter` (normal-mode keys, e.g. "A" or "o").
--- Inside `steps`, P.type() types keys and P.wait() waits for a condition; insert mode is left
--- (<Esc>) when `steps` ends. Errors end the run and are raised here.
---@param enter string
---@param steps fun()
---@param guard_ms? integer  hang guard for the whole run
function P.insert(enter, steps, guard_ms)
  local co = coroutine.create(steps)
  local failure
  local deadline = vim.uv.now() + (guard_ms or 100000)
  local timer = assert(vim.uv.new_timer())
  local function leave()
    timer:stop()
    vim.api.nvim_feedkeys(vim.keycode("<C-\\><C-n>"), "n", false)
  end
  timer:start(POLL_MS, POLL_MS, vim.schedule_wrap(function()
    if not timer:is_active() or coroutine.status(co) ~= "suspended" then
      return -- stopped, or the steps are inside a vim.wait (request_sync) that ran this tick
    end
    if vim.uv.now() > deadline then
      failure = failure or "the insert-mode steps did not finish within the hang guard"
      leave()
      return
    end
    local waiting = P.waiting
    if waiting then
      local ok, value = pcall(waiting.condition)
      if not ok then
        failure = tostring(value)
        leave()
        return
      end
      if not value then
        if vim.uv.now() > waiting.deadline then
          local state = waiting.describe and ("; state: " .. vim.inspect(waiting.describe())) or ""
          failure = "timed out after " .. waiting.ms .. " ms waiting for " .. waiting.what .. state
          leave()
        end
        return
      end
      P.waiting = nil
      waiting.value = value
    end
    local ok, err = coroutine.resume(co)
    if not ok then
      failure = debug.traceback(co, tostring(err))
      leave()
    elseif coroutine.status(co) == "dead" then
      leave()
    end
  end))
  -- "x!": execute the keys and stay in insert mode; returns once insert mode is left.
  vim.api.nvim_feedkeys(vim.keycode(enter), "mx!", false)
  local unfinished = coroutine.status(co) ~= "dead"
  timer:stop()
  timer:close()
  P.waiting = nil
  if failure then
    error(failure, 0)
  end
  if unfinished then
    error("insert mode was left before the steps ended", 0)
  end
end

--- Type `keys` (mappings apply) and let Neovim process them before going on.
---@param keys string
function P.type(keys)
  vim.api.nvim_feedkeys(vim.keycode(keys), "m", false)
  coroutine.yield()
end

--- Wait (inside P.insert) until `condition()` is truthy; returns its value.
---@param ms integer
---@param condition fun(): any
---@param what string
---@param describe? fun(): any
function P.wait(ms, condition, what, describe)
  local waiting = {
    condition = condition, what = what, describe = describe, ms = ms,
    deadline = vim.uv.now() + ms,
  }
  P.waiting = waiting
  coroutine.yield()
  return waiting.value
end

--- The ghost text drawn in `bufnr`: {row, col, inline, lines} per extmark (row/col 1-based/0-based).
function P.ghost(bufnr)
  local ns = require("kimi.predict.ghost").ns
  local out = {}
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })) do
    local details = mark[4]
    local inline = nil
    if details.virt_text then
      inline = table.concat(vim.tbl_map(function(c)
        return c[1]
      end, details.virt_text))
    end
    local lines = {}
    for _, chunks in ipairs(details.virt_lines or {}) do
      lines[#lines + 1] = table.concat(vim.tbl_map(function(c)
        return c[1]
      end, chunks))
    end
    out[#out + 1] = {
      row = mark[2] + 1, col = mark[3], inline = inline, lines = lines,
      pos = details.virt_text_pos, hl = details.virt_text and details.virt_text[1][2],
    }
  end
  return out
end

--- The buffer's lines.
function P.lines(bufnr)
  return vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
end

--- The chat-completions requests the fake API has seen so far.
function P.model_requests()
  local all = H.control("/_control/requests")
  return vim.tbl_filter(function(r)
    return r.path:match("/chat/completions$") ~= nil
  end, all)
end

--- kimi/status (synchronously, through the running client).
function P.status(client)
  local response = client:request_sync("kimi/status", vim.empty_dict(), 10000)
  H.check(response and response.result, "kimi/status did not answer: " .. vim.inspect(response))
  return response.result
end

return P
