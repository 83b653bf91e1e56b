--- Insert-mode keys that act only when there is something to act on, and otherwise do what the
--- key did before (the user's own mapping, buffer-local or global, or the key itself): so a
--- <Tab> mapped here never takes <Tab> from a completion menu or from an indent.
local M = {}

--- Run a mapping dict (from maparg/nvim_get_keymap) as if its key had been typed.
---@param m table
local function run(m)
  local keys
  if m.callback then
    local result = m.callback()
    if m.expr ~= 1 then
      return
    end
    keys = result
  elseif m.expr == 1 then
    keys = vim.api.nvim_eval(m.rhs)
  else
    keys = m.rhs
  end
  if type(keys) ~= "string" or keys == "" then
    return
  end
  if m.expr ~= 1 or m.replace_keycodes == 1 then
    keys = vim.keycode(keys)
  end
  -- "i": in place of the key just typed, before whatever is still in the typeahead.
  vim.api.nvim_feedkeys(keys, m.noremap == 1 and "in" or "im", false)
end

--- The global insert-mode mapping of `lhs`, if any (ours are buffer-local).
---@param lhs string
---@return table|nil
local function global_mapping(lhs)
  local wanted = vim.keycode(lhs)
  for _, m in ipairs(vim.api.nvim_get_keymap("i")) do
    if vim.keycode(m.lhs) == wanted then
      return m
    end
  end
  return nil
end

--- Do what `lhs` would do without our mapping.
---@param lhs string
---@param saved table|nil  the buffer-local mapping ours replaced
function M.fallthrough(lhs, saved)
  local mapping = saved or global_mapping(lhs)
  if mapping then
    run(mapping)
  else
    vim.api.nvim_feedkeys(vim.keycode(lhs), "in", false)
  end
end

---@class kimi.SavedKey
---@field mode string
---@field lhs string
---@field saved table|nil  the buffer's own mapping, restored by unmap

--- Map `lhs` in `mode` for `bufnr`: `action()` returns true when it acted; otherwise the key
--- falls through (insert mode) or does nothing more (normal mode keys are only mapped while
--- there is something for them).
---@param bufnr integer
---@param mode string
---@param lhs string|false
---@param action fun(): boolean
---@param desc string
---@return kimi.SavedKey|nil
function M.map(bufnr, mode, lhs, action, desc)
  if not lhs then
    return nil
  end
  local saved = vim.api.nvim_buf_call(bufnr, function()
    return vim.fn.maparg(lhs, mode, false, true)
  end)
  saved = type(saved) == "table" and saved.buffer == 1 and saved or nil
  vim.keymap.set(mode, lhs, function()
    if not action() and mode == "i" then
      M.fallthrough(lhs, saved)
    end
  end, { buffer = bufnr, desc = "Kimi: " .. desc })
  return { mode = mode, lhs = lhs, saved = saved }
end

--- Remove our mappings and put back the buffer's own.
---@param bufnr integer
---@param keys kimi.SavedKey[]
function M.unmap(bufnr, keys)
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  for _, key in ipairs(keys) do
    pcall(vim.keymap.del, key.mode, key.lhs, { buffer = bufnr })
    if key.saved then
      vim.api.nvim_buf_call(bufnr, function()
        vim.fn.mapset(key.mode, false, key.saved)
      end)
    end
  end
end

return M
