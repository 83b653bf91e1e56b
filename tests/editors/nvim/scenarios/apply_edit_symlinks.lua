-- Finding 3/6 (issue 16), the plugin's side: a workspace/applyEdit from the kimi server that
-- writes through a symlink into .git (a committed `tools -> .git`, `sub/g -> ../.git`), or
-- through one leading out of the workspace, is refused whole: nothing is created or changed.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local bufnr, client = H.open("calc.py")
  local ws = H.workspace
  local outside = vim.fs.dirname(ws) .. "/outside"
  vim.fn.mkdir(outside, "p")
  vim.fn.mkdir(ws .. "/.git/hooks", "p")
  vim.fn.mkdir(ws .. "/sub", "p")
  H.write_file(ws .. "/.git/config", "[core]\n")
  assert(vim.uv.fs_symlink(ws .. "/.git", ws .. "/tools"))
  assert(vim.uv.fs_symlink("../.git", ws .. "/sub/g"))
  assert(vim.uv.fs_symlink(outside, ws .. "/out"))
  local method = "workspace/applyEdit"
  local handler = client.handlers[method] or vim.lsp.handlers[method]
  local ctx = { client_id = client.id, method = method, bufnr = bufnr }
  local origin = { start = { line = 0, character = 0 }, ["end"] = { line = 0, character = 0 } }
  local function create(rel, text)
    local uri = vim.uri_from_fname(ws .. "/" .. rel)
    return {
      edit = {
        documentChanges = {
          { kind = "create", uri = uri, options = { overwrite = false, ignoreIfExists = false } },
          { textDocument = { uri = uri }, edits = { { range = origin, newText = text } } },
        },
      },
    }
  end
  local config_uri = vim.uri_from_fname(ws .. "/tools/config")
  local answers = {
    hook = handler(nil, create("sub/g/hooks/pre-commit", "#!/bin/sh\ntouch pwned\n"), ctx),
    outside = handler(nil, create("out/evil.py", "x = 1\n"), ctx),
    config = handler(nil, {
      edit = {
        documentChanges = {
          { textDocument = { uri = config_uri },
            edits = { { range = origin, newText = "[core]\n\tfsmonitor = touch pwned\n" } } },
        },
      },
    }, ctx),
    fine = handler(nil, create("pkg2/new.py", "y = 2\n"), ctx),
    -- Editor/CI configuration only ever comes from a preview the user confirms.
    annotated = handler(nil, {
      edit = {
        documentChanges = {
          { textDocument = { uri = vim.uri_from_bufnr(bufnr) },
            edits = {
              { range = origin, newText = "# x\n", annotationId = "kimiRefactorConfig" },
            } },
        },
        changeAnnotations = { kimiRefactorConfig = { label = "config", needsConfirmation = true } },
      },
    }, ctx),
  }
  local config_buf = vim.fn.bufnr(ws .. "/tools/config")
  return {
    answers = answers,
    calc = H.text(bufnr),
    hook = vim.uv.fs_stat(ws .. "/.git/hooks/pre-commit") ~= nil,
    outside = vim.uv.fs_stat(outside .. "/evil.py") ~= nil,
    git_config = H.read_file(ws .. "/.git/config"),
    config_buffer = H.loaded(ws .. "/tools/config") and H.text(config_buf) or vim.NIL,
    fine = vim.fn.bufnr(ws .. "/pkg2/new.py") ~= -1 and H.text(vim.fn.bufnr(ws .. "/pkg2/new.py")),
  }
end)
