-- setup() + attach: the server starts for a Python file; :KimiStatus shows the model, the
-- statusline component too; :KimiContext opens the manifest; :KimiRefactorApply with no
-- proposal says so.
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

H.run(function()
  H.setup()
  local bufnr, client = H.open("calc.py")

  vim.cmd("KimiStatus")
  local note = H.wait(20000, function()
    return H.notified("kimi-lsp ")
  end, ":KimiStatus to show the status")
  local statusline = H.wait(5000, function()
    local line = require("kimi").statusline()
    return line:find("kimi-k2.6", 1, true) and line or nil
  end, "the statusline component to show the model")

  vim.cmd("KimiContext")
  local float = H.wait(20000, function()
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(win).relative ~= "" then
        return win
      end
    end
  end, ":KimiContext to open a float")
  local context = table.concat(
    vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(float), 0, -1, false), "\n")
  vim.api.nvim_win_close(float, true)

  vim.cmd("KimiRefactorApply")
  local refactor = H.notified("no Kimi refactor to apply")

  -- :help kimi: the help file builds tags without errors and documents every command.
  local root = vim.fn.tempname()
  vim.fn.mkdir(root .. "/doc", "p")
  vim.fn.writefile(vim.fn.readfile(H.plugin .. "/doc/kimi.txt"), root .. "/doc/kimi.txt")
  vim.cmd.helptags(root .. "/doc")
  vim.opt.runtimepath:append(root)
  local undocumented = {}
  for name in pairs(vim.api.nvim_get_commands({})) do
    local tags = vim.fn.getcompletion(":" .. name, "help")
    if name:match("^Kimi") and not vim.tbl_contains(tags, ":" .. name) then
      undocumented[#undocumented + 1] = name
    end
  end
  vim.cmd("help kimi-install")
  local help_line = vim.api.nvim_get_current_line()
  vim.cmd("helpclose")

  return {
    undocumented = undocumented,
    help_line = help_line,
    client_name = client.name,
    attached = vim.lsp.buf_is_attached(bufnr, client.id),
    status_message = note.message,
    statusline = statusline,
    context_float = context,
    refactor_message = refactor and refactor.message or "",
    commands = vim.tbl_keys(vim.api.nvim_get_commands({})),
  }
end)
