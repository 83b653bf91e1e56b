-- Versioned edits: the plugin advertises documentChanges, so the server's applyEdit carries the
-- buffer's version; an edit computed against an older version than the buffer's is refused
-- (Neovim's own handler would skip it and still answer applied = true).
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local bufnr, client = H.open("calc.py")
  local advertised = client.capabilities.workspace.workspaceEdit.documentChanges
  local handler = require("kimi.lsp").handlers["workspace/applyEdit"]
  local uri = vim.uri_from_bufnr(bufnr)
  local version = vim.lsp.util.buf_versions[bufnr]
  local function edit_at(v, text)
    return {
      edit = {
        documentChanges = {
          {
            textDocument = { uri = uri, version = v },
            edits = {
              { range = { start = { line = 0, character = 0 }, ["end"] = { line = 0, character = 0 } },
                newText = text },
            },
          },
        },
      },
    }
  end
  local ctx = { client_id = client.id, method = "workspace/applyEdit", bufnr = bufnr }
  local current = handler(nil, edit_at(version, "# current\n"), ctx)
  local after_current = H.text(bufnr)
  local moved = vim.lsp.util.buf_versions[bufnr]
  local stale = handler(nil, edit_at(version, "# stale\n"), ctx) -- the buffer moved on
  return {
    advertised = advertised,
    current = current,
    stale = stale,
    versions = { version, moved },
    after_current = after_current,
    text = H.text(bufnr),
  }
end)
