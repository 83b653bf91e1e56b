-- :KimiPredict off: the server is told (kimi/status.prediction.enabled false), the statusline
-- says so, and typing sends no prediction request; :KimiPredict on brings ghost text back.
local P = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/predict_lib.lua")
local H = P.H

H.run(function()
  H.setup({ prediction = { debounce_ms = 0, next_edit_debounce_ms = 0 } })
  local bufnr, client = H.open("calc.py")
  local ghost = require("kimi.predict.ghost")
  local next_edit = require("kimi.predict.next_edit")
  local out = { statusline_on = require("kimi").statusline() }
  vim.cmd("KimiPredict off")
  out.statusline_off = require("kimi").statusline()
  out.server_off = H.wait(10000, function()
    local p = P.status(client).prediction
    return p and p.enabled == false and p
  end, "the server to turn prediction off")
  out.status_off = require("kimi.status").describe(P.status(client))
  vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(bufnr), 0 })
  P.insert("A", function()
    P.type("y = ad")
    -- A kimi/status round trip: timers due (debounce 0) run before its answer arrives.
    P.status(client)
    out.off = { ghost = ghost.sent, next_edit = next_edit.sent, requests = #P.model_requests(),
      shown = P.ghost(bufnr) }
    P.type("<C-o>:KimiPredict on<CR>")
    P.wait(5000, function()
      return require("kimi.config").options.prediction.enabled
    end, ":KimiPredict on")
    P.type("<CR>z = ad")
    out.on = P.wait(30000, function()
      local marks = P.ghost(bufnr)
      return #marks > 0 and marks
    end, "ghost text once prediction is on")
  end)
  out.statusline_back = require("kimi").statusline()
  local status = P.status(client)
  out.server_on = status.prediction.enabled
  out.status_on = require("kimi.status").describe(status)
  out.settings = client.settings
  return out
end)
