-- Two endpoints: the primary answers 503, the fallback (its own key, from the variable its
-- apiKeyEnv names) answers; the statusline shows the fallback's model with the marker and
-- :KimiStatus lists the roles and the last fallback. Then the primary answers again: the marker
-- goes. :checkhealth kimi lists the fallback (its variable, never its key).
local H = dofile(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)) .. "/harness.lua")

--- Ask in the chat and wait until `expect` is answered (with its footer).
local function chat_answer(message, expect)
  local chat = require("kimi.chat")
  vim.cmd("KimiChat " .. message)
  local bufnr = chat.state.bufnr
  H.wait(30000, function()
    local text = H.text(bufnr)
    return not chat.busy() and text:find(expect, 1, true) and text:find("_\n\n## You\n\n$")
  end, "the answer to " .. message, function()
    return H.text(bufnr)
  end)
  return H.text(bufnr)
end

H.run(function()
  H.setup({
    settings = {
      fallback = {
        {
          model = "kimi-k2.5",
          baseUrl = os.getenv("KIMI_TEST_FALLBACK_URL"),
          apiKeyEnv = "KIMI_TEST_FALLBACK_KEY",
        },
      },
    },
  })
  H.open("calc.py")
  local status = require("kimi.status")
  local first = chat_answer("Who answers?", "The fallback answers.")
  local during = H.wait(5000, function()
    local line = require("kimi").statusline()
    return line:find("(fallback)", 1, true) and line or nil
  end, "the statusline to show the fallback", function()
    return { require("kimi").statusline(), status.state }
  end)

  vim.cmd("KimiStatus")
  local note = H.wait(20000, function()
    return H.notified("Last fallback")
  end, ":KimiStatus to list the last fallback", function()
    return H.notes
  end)

  vim.cmd("checkhealth kimi")
  local health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  vim.cmd("bwipeout!")

  local second = chat_answer("And now?", "The primary is back.")
  local after = H.wait(5000, function()
    local line = require("kimi").statusline()
    return not line:find("(fallback)", 1, true) and line or nil
  end, "the fallback marker to go", function()
    return { require("kimi").statusline(), status.state }
  end)
  return {
    first = first,
    second = second,
    during = during,
    after = after,
    status_message = note.message,
    health = health,
    answer = status.state.answer,
  }
end)
