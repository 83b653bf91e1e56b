--- Checks a WorkspaceEdit from the server before Neovim applies it: CreateFile options honoured,
--- nothing written through a symlink out of the workspace or into a .git directory.
---
--- Neovim 0.11's apply_workspace_edit opens a CreateFile's path for writing (truncating an
--- existing file) unless `ignoreIfExists` is set and `overwrite` is not, so `overwrite: false,
--- ignoreIfExists: false` over an existing file would empty it; and it creates parent
--- directories with `mkdir -p`, following any symlink on the way.
local M = {}

local uv = vim.uv or vim.loop

--- Whether a path component names a .git directory, in any spelling a filesystem may accept
--- (".GIT" on a case-insensitive one, ".git." where trailing dots are dropped).
---@param component string
---@return boolean
local function is_git(component)
  return (component:lower():gsub("[%. ]+$", "")) == ".git"
end

---@param path string
---@return boolean
local function has_git(path)
  for _, component in ipairs(vim.split(path, "/", { plain = true })) do
    if is_git(component) then
      return true
    end
  end
  return false
end

--- `path` with every symlink resolved: the deepest ancestor that exists, resolved, and the
--- rest (which does not exist yet) appended as it is.
---@param path string  absolute
---@return string
function M.resolve(path)
  local rest = {}
  local current = path
  while true do
    local real = uv.fs_realpath(current)
    if real then
      if #rest == 0 then
        return real
      end
      return (real:gsub("/$", "")) .. "/" .. table.concat(rest, "/")
    end
    local parent = vim.fs.dirname(current)
    if parent == current then
      return path
    end
    table.insert(rest, 1, vim.fs.basename(current))
    current = parent
  end
end

---@param path string
---@param root string
---@return boolean
local function under(path, root)
  root = root:gsub("/$", "")
  return path == root or path:sub(1, #root + 1) == root .. "/"
end

--- The client's workspace roots, as given and resolved.
---@param client vim.lsp.Client|nil
---@return string[]
function M.roots(client)
  local roots = {}
  local function add(dir)
    if type(dir) == "string" and dir ~= "" then
      local normal = vim.fs.normalize(dir)
      roots[#roots + 1] = normal
      roots[#roots + 1] = M.resolve(normal)
    end
  end
  if client then
    for _, folder in ipairs(client.workspace_folders or {}) do
      add(vim.uri_to_fname(folder.uri))
    end
    add(client.root_dir or (client.config and client.config.root_dir))
  end
  return roots
end

--- Why the edit may not write `fname` (nil when it may): inside .git, or inside the workspace
--- by name but outside it once symlinks are followed.
---@param fname string
---@param roots string[]
---@return string|nil
function M.path_refusal(fname, roots)
  local path = vim.fs.normalize(fname)
  local real = M.resolve(path)
  local name = vim.fn.fnamemodify(path, ":~:.")
  if has_git(path) or has_git(real) then
    return name .. " is inside a .git directory" .. (has_git(path) and "" or " (through a symlink)")
  end
  local inside_by_name, inside_really = false, false
  for _, root in ipairs(roots) do
    inside_by_name = inside_by_name or under(path, root)
    inside_really = inside_really or under(real, M.resolve(root))
  end
  if inside_by_name and not inside_really then
    return name .. " leads outside the workspace through a symlink (to " .. real .. ")"
  end
  return nil
end

--- Whether `fname` exists: on disk (a dangling symlink too) or as a loaded buffer with text.
---@param fname string
---@return boolean
function M.exists(fname)
  if uv.fs_lstat(fname) then
    return true
  end
  local bufnr = vim.fn.bufnr(fname)
  if bufnr == -1 or not vim.api.nvim_buf_is_loaded(bufnr) then
    return false
  end
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  return #lines > 1 or (lines[1] or "") ~= ""
end

--- Every file path a change touches.
---@param change table  a TextDocumentEdit, CreateFile, RenameFile or DeleteFile
---@return string[]
local function paths_of(change)
  if change.kind == "rename" then
    return { vim.uri_to_fname(change.oldUri), vim.uri_to_fname(change.newUri) }
  elseif change.kind then
    return { vim.uri_to_fname(change.uri) }
  end
  return { vim.uri_to_fname(change.textDocument.uri) }
end

--- A CreateFile (or a RenameFile's target) over an existing file: "keep" it, "skip" it, or a
--- refusal. Overwrite wins over ignoreIfExists, as the LSP specification says.
---@param change table
---@return "keep"|"skip"|string
local function over_existing(change)
  local target = change.kind == "create" and change.uri or change.newUri
  if not target or not M.exists(vim.uri_to_fname(target)) then
    return "keep"
  end
  local options = change.options or {}
  if options.overwrite then
    return "keep"
  elseif options.ignoreIfExists then
    return "skip"
  end
  return vim.fn.fnamemodify(vim.uri_to_fname(target), ":~:.")
    .. " already exists and the edit may not overwrite it"
end

--- The edit to apply (CreateFiles to skip left out), or nil and why nothing may be applied.
---@param edit lsp.WorkspaceEdit
---@param roots string[]
---@return lsp.WorkspaceEdit|nil
---@return string|nil reason
function M.check(edit, roots)
  if type(edit) ~= "table" then
    return nil, "the edit is not a WorkspaceEdit"
  end
  if edit.documentChanges then
    local kept = {}
    for _, change in ipairs(edit.documentChanges) do
      for _, fname in ipairs(paths_of(change)) do
        local refusal = M.path_refusal(fname, roots)
        if refusal then
          return nil, refusal
        end
      end
      local verdict = (change.kind == "create" or change.kind == "rename")
          and over_existing(change)
        or "keep"
      if verdict == "keep" then
        kept[#kept + 1] = change
      elseif verdict ~= "skip" then
        return nil, verdict
      end
    end
    local out = vim.deepcopy(edit)
    out.documentChanges = kept
    return out, nil
  end
  for uri in pairs(edit.changes or {}) do
    local refusal = M.path_refusal(vim.uri_to_fname(uri), roots)
    if refusal then
      return nil, refusal
    end
  end
  return edit, nil
end

--- The change annotation the server puts on changes to editor or CI configuration (.vscode/,
--- .nvim.lua, .exrc, .github/workflows/, git hooks, ...): files that can run commands.
M.CONFIG_ANNOTATION = "kimiRefactorConfig"

--- The uris whose changes carry the configuration annotation (Neovim ignores annotations, so
--- the plugin asks for the confirmation they need).
---@param edit lsp.WorkspaceEdit
---@return string[]
function M.config_files(edit)
  local found, seen = {}, {}
  local function note(uri, annotated)
    if annotated == M.CONFIG_ANNOTATION and uri and not seen[uri] then
      seen[uri] = true
      found[#found + 1] = uri
    end
  end
  for _, change in ipairs(type(edit) == "table" and edit.documentChanges or {}) do
    local uri = change.textDocument and change.textDocument.uri or change.uri or change.newUri
    note(uri, change.annotationId)
    for _, text_edit in ipairs(change.edits or {}) do
      note(uri, text_edit.annotationId)
    end
  end
  for uri, edits in pairs(type(edit) == "table" and edit.changes or {}) do
    for _, text_edit in ipairs(edits) do
      note(uri, text_edit.annotationId)
    end
  end
  table.sort(found)
  return found
end

--- Check, then apply through Neovim. Returns whether it was applied and why not (a refusal
--- of the checks changed nothing).
---@param edit lsp.WorkspaceEdit
---@param client vim.lsp.Client|nil
---@return boolean applied
---@return string|nil reason
function M.apply(edit, client)
  local checked, reason = M.check(edit, M.roots(client))
  if not checked then
    return false, reason
  end
  local encoding = client and client.offset_encoding or "utf-16"
  local ok, err = pcall(vim.lsp.util.apply_workspace_edit, checked, encoding)
  if not ok then
    return false, "Neovim could not apply it: " .. tostring(err)
  end
  return true, nil
end

return M
