-- Issue 16 (finding 2, the Neovim side): opening a repository must not choose the program that
-- receives the API key. The workspace holds its own executable `kimi-lsp` (and tools/kimi-lsp)
-- that leaves a marker file when run. KIMI_TEST_CMD_CASE:
--   "relative": cmd = { "tools/kimi-lsp" } (relative to the current directory) is refused;
--   "path_dot": $PATH starts with an empty entry (the current directory, to execvp) and the
--   default cmd { "kimi-lsp" } starts the installed server, not the workspace's.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  local case = assert(os.getenv("KIMI_TEST_CMD_CASE"), "KIMI_TEST_CMD_CASE is not set")
  local marker = H.workspace .. "/pwned"
  local script = "#!/bin/sh\necho \"$0\" > '" .. marker .. "'\nexit 1\n"
  vim.fn.mkdir(H.workspace .. "/tools", "p")
  for _, rel in ipairs({ "kimi-lsp", "tools/kimi-lsp" }) do
    H.write_file(H.workspace .. "/" .. rel, script)
    vim.uv.fs_chmod(H.workspace .. "/" .. rel, 493) -- 0755
  end
  H.check(vim.fn.getcwd() == H.workspace, "the scenario runs in the workspace")
  if case == "relative" then
    H.setup({ cmd = { "tools/kimi-lsp" } })
  else
    vim.env.PATH = ":" .. vim.env.PATH
    H.setup()
  end
  vim.cmd.edit(vim.fn.fnameescape(H.workspace .. "/calc.py"))
  local bufnr = vim.api.nvim_get_current_buf()
  -- Until the kimi client initialized, the start was refused, or the workspace's program ran.
  H.wait(20000, function()
    local c = vim.lsp.get_clients({ name = "kimi", bufnr = bufnr })[1]
    return (c and c.initialized) or H.notified("relative path") or vim.uv.fs_stat(marker)
  end, "the kimi client to start, or be refused")
  local client = vim.lsp.get_clients({ name = "kimi", bufnr = bufnr })[1]
  return {
    ran_workspace_program = H.read_file(marker) or vim.NIL,
    initialized = client ~= nil and client.initialized == true,
    refused = H.notified("tools/kimi-lsp is a relative path") ~= nil,
  }
end)
