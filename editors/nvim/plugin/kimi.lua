-- kimi.nvim: user commands only; every module loads on first use.
if vim.g.loaded_kimi then
  return
end
vim.g.loaded_kimi = true

if vim.fn.has("nvim-0.10") ~= 1 then
  local v = vim.version and vim.version() or { major = 0, minor = 0, patch = 0 }
  vim.api.nvim_echo({
    {
      string.format("kimi.nvim needs Neovim 0.10 or newer (this is %d.%d.%d); it is disabled.",
        v.major, v.minor, v.patch),
      "WarningMsg",
    },
  }, true, {})
  return
end

local function command(name, run, opts)
  opts.desc = opts.desc or ("Kimi: " .. name)
  vim.api.nvim_create_user_command(name, run, opts)
end

command("KimiChat", function(o)
  require("kimi.chat").command(o)
end, { nargs = "*", range = true, bang = true, desc = "Kimi: chat ([range] about a selection, ! for a new conversation)" })

command("KimiEdit", function(o)
  require("kimi.edit").command(o)
end, { nargs = "*", range = true, desc = "Kimi: rewrite the lines as instructed, as a preview" })

command("KimiAcceptHunk", function()
  require("kimi.edit").accept_hunk()
end, { desc = "Kimi: accept the proposed hunk under the cursor" })

command("KimiRejectHunk", function()
  require("kimi.edit").reject_hunk()
end, { desc = "Kimi: drop the proposed hunk under the cursor" })

command("KimiAcceptAll", function()
  require("kimi.edit").accept_all()
end, { desc = "Kimi: accept every proposed hunk" })

command("KimiRejectAll", function()
  require("kimi.edit").reject_all()
end, { desc = "Kimi: reject the proposal" })

command("KimiStop", function()
  require("kimi").stop()
end, { desc = "Kimi: stop the answer or edit being written" })

command("KimiStatus", function()
  require("kimi.status").show()
end, { desc = "Kimi: server version, model, key, session usage and cost" })

command("KimiContext", function(o)
  require("kimi.context").show(o.args)
end, {
  nargs = "?",
  complete = function()
    return { "chat", "edit", "refactor" }
  end,
  desc = "Kimi: what the next request would send",
})

command("KimiRefactor", function(o)
  require("kimi.refactor").command(o)
end, { nargs = "*", desc = "Kimi: multi-file refactor, shown as a preview" })

command("KimiRefactorApply", function(o)
  require("kimi.refactor").apply(o.bang)
end, {
  bang = true,
  desc = "Kimi: apply the refactor's proposal (! confirms editor/CI configuration changes)",
})

command("KimiRefactorDiscard", function()
  require("kimi.refactor").discard()
end, { desc = "Kimi: drop the refactor's proposal (or stop it)" })

command("KimiPredict", function(o)
  require("kimi.predict").command(o)
end, {
  nargs = "?",
  complete = function()
    return { "on", "off", "toggle" }
  end,
  desc = "Kimi: edit prediction (ghost text, next edits) on, off or toggle",
})

command("KimiNextEdit", function()
  require("kimi.predict.next_edit").request(0, true)
end, { desc = "Kimi: suggest the next edits now (shown as a preview)" })

command("KimiLog", function()
  vim.cmd.edit(vim.fn.fnameescape(require("kimi.log").file()))
end, { desc = "Kimi: open the plugin's log file" })
