--- A refactor's `bases` (the sha256 of the text each file's edit was computed from) checked
--- against what Neovim would apply the edit to now.
local M = {}

--- A loaded buffer's text as the LSP client syncs it to the server: the lines joined with the
--- 'fileformat' line ending, and one more ending when 'eol' is set (as Neovim's didOpen and
--- full-text changes send it; 'fixeol' only matters when the file is written).
---@param bufnr integer
---@return string
function M.buffer_text(bufnr)
  local ending = ({ dos = "\r\n", mac = "\r" })[vim.bo[bufnr].fileformat] or "\n"
  local text = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), ending)
  if vim.bo[bufnr].eol then
    text = text .. ending
  end
  return text
end

---@param fname string
---@return string|nil bytes  nil when the file cannot be read
local function disk_bytes(fname)
  local file = io.open(fname, "rb")
  if not file then
    return nil
  end
  local bytes = file:read("*a")
  file:close()
  return bytes
end

--- The text the edit would be applied to now: a loaded buffer's (the server holds it when the
--- buffer is attached; a modified one is what the edit would land in), else the file's bytes.
---@param uri string
---@param client_id integer|nil
---@return string|nil text  nil when there is no such file
function M.current(uri, client_id)
  local fname = vim.uri_to_fname(uri)
  local bufnr = vim.fn.bufnr(fname)
  if bufnr ~= -1 and vim.api.nvim_buf_is_loaded(bufnr) then
    local attached = client_id ~= nil and vim.lsp.buf_is_attached(bufnr, client_id)
    if attached or vim.bo[bufnr].modified or not vim.uv.fs_stat(fname) then
      return M.buffer_text(bufnr)
    end
  end
  return disk_bytes(fname)
end

--- The files (uris) whose text is not what the server computed the edit from: changed since,
--- created since (a null base), or unreadable.
---@param files string[]  every uri the edit touches
---@param bases table<string, string|userdata>  uri -> sha256 hex; null for a file the edit
---   creates (Neovim's JSON decoding drops a null member, so a missing uri reads as null)
---@param client_id integer|nil
---@return string[] moved
function M.moved(files, bases, client_id)
  local moved = {}
  for _, uri in ipairs(files) do
    local base = bases[uri]
    local same
    if base == nil or base == vim.NIL then
      -- A file the edit creates: an empty buffer of that name, not saved yet, is no file.
      same = not require("kimi.workspace_edit").exists(vim.uri_to_fname(uri))
    else
      local text = M.current(uri, client_id)
      -- vim.fn.sha256 refuses a string holding NUL bytes: such a file cannot be checked.
      local ok, hash = pcall(vim.fn.sha256, text or "")
      same = text ~= nil and ok and hash == string.lower(tostring(base))
    end
    if not same then
      moved[#moved + 1] = uri
    end
  end
  table.sort(moved)
  return moved
end

return M
