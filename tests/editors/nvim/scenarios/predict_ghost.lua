-- Ghost text while typing Python in a real insert mode: shown (inline + virtual lines), typed
-- through without a request, accepted by word, by line and whole (<Tab>); a completion menu
-- keeps <Tab> (the user's own mapping) and hides the suggestion; a cursor move dismisses it;
-- <Tab> with nothing shown does what it did before; a suggestion rewriting the rest of the line
-- is drawn around what it keeps.
local P = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/predict_lib.lua")
local H = P.H

H.run(function()
  H.setup({ prediction = { debounce_ms = 0, next_edit = false } })
  -- The user's own <Tab>, mapped before the plugin maps its own: next menu item, else a tab.
  vim.cmd([[inoremap <expr> <Tab> pumvisible() ? "\<C-n>" : "\<Tab>"]])
  local bufnr = H.open("calc.py")
  local ghost = require("kimi.predict.ghost")
  local function shown(check)
    local marks = P.ghost(bufnr)
    if #marks == 0 then
      return nil
    end
    return (check == nil or check(marks[1])) and marks or nil
  end
  local function row(n)
    return P.lines(bufnr)[n]
  end
  local out = {}
  vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(bufnr), 0 })
  P.insert("A", function()
    P.type("def mul(a, ")
    out.first = P.wait(30000, shown, "ghost text after 'def mul(a, '")
    out.requests_first = #P.model_requests()
    out.sent_first = ghost.sent
    -- Typing the suggestion's next characters shrinks it, with no request.
    P.type("b)")
    out.typed = P.wait(5000, function()
      return shown(function(m)
        return m.inline == ":"
      end)
    end, "the suggestion to shrink to ':'", function()
      return P.ghost(bufnr)
    end)
    out.sent_typed = ghost.sent
    out.requests_typed = #P.model_requests()
    P.type("<M-w>") -- accept word: ":"
    out.word = P.wait(5000, function()
      return row(7) == "def mul(a, b):" and shown(function(m)
        return m.inline == nil
      end)
    end, "the word accepted", function()
      return { P.lines(bufnr), P.ghost(bufnr) }
    end)
    P.type("<M-j>") -- accept line: the next line
    out.line = P.wait(5000, function()
      return row(8) == "    c = a * b" and shown()
    end, "the line accepted", function()
      return { P.lines(bufnr), P.ghost(bufnr) }
    end)
    out.line_cursor = vim.api.nvim_win_get_cursor(0)
    P.type("<Tab>") -- no menu: accepts the rest
    P.wait(5000, function()
      return row(9) == "    return c" and not shown()
    end, "the rest accepted", function()
      return { P.lines(bufnr), P.ghost(bufnr) }
    end)
    out.accepted = P.lines(bufnr)
    -- A completion menu keeps <Tab>: the suggestion goes, <Tab> selects the next item.
    P.type("<CR>x = ad")
    out.before_menu = P.wait(30000, function()
      return shown(function(m)
        return m.inline == "d(1, 2)"
      end)
    end, "ghost text after 'x = ad'", function()
      return { P.lines(bufnr), P.ghost(bufnr) }
    end)
    P.type("<C-n>")
    P.wait(5000, function()
      return vim.fn.pumvisible() == 1
    end, "the completion menu")
    out.menu_ghost = P.ghost(bufnr)
    local before = vim.fn.complete_info({ "selected", "items" })
    P.type("<Tab>")
    local after = P.wait(5000, function()
      local info = vim.fn.complete_info({ "selected", "items" })
      return info.selected ~= before.selected and info
    end, "<Tab> to select the next menu item")
    out.menu = {
      words = vim.tbl_map(function(item)
        return item.word
      end, after.items),
      before = before.selected,
      after = after.selected,
      pum = vim.fn.pumvisible(),
      line = vim.api.nvim_get_current_line(),
      ghost = P.ghost(bufnr),
    }
    P.type("<C-e>") -- close the menu: "x = ad" again, a new suggestion
    out.before_move = P.wait(30000, function()
      return shown(function(m)
        return m.inline == "d(1, 2)"
      end)
    end, "ghost text after the menu closed", function()
      return { P.lines(bufnr), P.ghost(bufnr) }
    end)
    local sent = ghost.sent
    P.type("<Left>") -- a cursor move dismisses
    P.wait(5000, function()
      return not shown()
    end, "the suggestion dismissed by <Left>")
    out.after_move = { line = vim.api.nvim_get_current_line(), sent = ghost.sent - sent }
    -- Typing something else than the suggestion dismisses it at once.
    P.type("<End><CR>z = ad")
    out.before_mismatch = P.wait(30000, function()
      return shown(function(m)
        return m.inline == "d(3, 4)"
      end)
    end, "ghost text after 'z = ad'")
    P.type("X")
    P.wait(5000, function()
      return vim.api.nvim_get_current_line() == "z = adX" and not shown()
    end, "the suggestion dismissed by a mismatch", function()
      return { vim.api.nvim_get_current_line(), P.ghost(bufnr) }
    end)
    -- <Tab> with no suggestion: the user's mapping (a tab, or spaces with 'expandtab').
    local count = vim.api.nvim_buf_line_count(bufnr)
    P.type("<End><CR><Tab>")
    P.wait(5000, function()
      return vim.api.nvim_buf_line_count(bufnr) > count and vim.api.nvim_get_current_line() ~= ""
    end, "<Tab> to indent", function()
      return { P.lines(bufnr), vim.api.nvim_win_get_cursor(0), vim.api.nvim_get_mode() }
    end)
    out.tab_line = vim.api.nvim_get_current_line()
    -- A suggestion that rewrites the rest of the line (the ")" an editor closed for the user):
    -- its characters shown around the ")", the line replaced when accepted.
    P.type("<C-u>t = sq()<Left>")
    out.closers = P.wait(30000, function()
      local marks = P.ghost(bufnr)
      return #marks > 1 and marks
    end, "ghost text around ')'", function()
      return { vim.api.nvim_get_current_line(), P.ghost(bufnr) }
    end)
    P.type("<M-l>")
    out.closers_line = P.wait(5000, function()
      local line = vim.api.nvim_get_current_line()
      return line ~= "t = sq()" and not shown() and line
    end, "the rewrite accepted")
    out.closers_cursor = vim.api.nvim_win_get_cursor(0)
  end)
  out.text = H.text(bufnr)
  return out
end)
