--- Definitions from the buffer's other language servers (protocol v2 `definitions`): the
--- identifiers near the cursor or in the selection, each sent as textDocument/definition to
--- every other attached client that supports it, all at once, under a small time cap (what
--- has answered by then is used). Cached per buffer changedtick. It never blocks typing (all
--- asynchronous) and never fails the request it serves: any error means fewer definitions.
local config = require("kimi.config")

local M = {}

local has_011 = vim.fn.has("nvim-0.11") == 1

M.MAX_LOCATIONS = 16 -- the server reads at most this many

-- Words that are never worth a lookup, in the languages people use most.
local KEYWORDS = {}
for word in ([[
  and as assert async await break case catch class const continue def default del do elif else
  end enum except export extends false finally fn for from func function global go if impl
  import in interface is lambda let local match mod nil none None nonlocal not null or package
  pass pub raise return self Self static struct super switch then this throw true True False
  try type until use var void while with yield
]]):gmatch("%S+") do
  KEYWORDS[word] = true
end

---@class kimi.Identifier
---@field word string
---@field row integer  0-based
---@field col integer  0-based byte column

--- The distinct identifiers of rows `first`..`last` (0-based, inclusive), nearest `cursor`
--- first, at most `limit`; keywords, numbers and one-letter names left out.
---@param bufnr integer
---@param first integer
---@param last integer
---@param cursor integer
---@param limit integer
---@return kimi.Identifier[]
function M.identifiers(bufnr, first, last, cursor, limit)
  local lines = vim.api.nvim_buf_get_lines(bufnr, first, last + 1, false)
  local found, seen = {}, {}
  for i, line in ipairs(lines) do
    local row = first + i - 1
    -- Comments and strings are not skipped: a language server answers nothing for them.
    for col, word in line:gmatch("()([%a_][%w_]*)") do
      if #word > 1 and not KEYWORDS[word] and not seen[word] then
        seen[word] = true
        found[#found + 1] = { word = word, row = row, col = col - 1 }
      end
    end
  end
  table.sort(found, function(a, b)
    local da, db = math.abs(a.row - cursor), math.abs(b.row - cursor)
    if da ~= db then
      return da < db
    end
    return a.row < b.row or (a.row == b.row and a.col < b.col)
  end)
  local kept = {}
  for i = 1, math.min(limit, #found) do
    kept[i] = found[i]
  end
  return kept
end

--- A Location from a Location or a LocationLink (its whole target range).
---@return table|nil
local function location(item)
  if type(item) ~= "table" then
    return nil
  end
  if item.targetUri then
    return { uri = item.targetUri, range = item.targetRange or item.targetSelectionRange }
  end
  if item.uri and item.range then
    return { uri = item.uri, range = item.range }
  end
  return nil
end

--- The other clients attached to `bufnr` that answer textDocument/definition.
---@return vim.lsp.Client[]
local function other_clients(bufnr)
  local clients = {}
  for _, client in ipairs(vim.lsp.get_clients({ bufnr = bufnr })) do
    if client.name ~= require("kimi.lsp").NAME then
      local ok, supported
      if has_011 then
        ok, supported = pcall(client.supports_method, client, "textDocument/definition", bufnr)
      else
        ok, supported = pcall(client.supports_method, "textDocument/definition", { bufnr = bufnr })
      end
      if ok and supported then
        clients[#clients + 1] = client
      end
    end
  end
  return clients
end

---@param client vim.lsp.Client
---@param line string
---@param col integer
---@return integer
local function character(client, line, col)
  local ok, index = pcall(vim.str_utfindex, line, client.offset_encoding or "utf-16", col, false)
  return ok and index or col
end

--- The per-buffer cache: the last answer, and the callbacks waiting for one under way.
---@type table<integer, {key: string, locations: table[]|nil, waiting: function[]}>
M.cache = {}

--- Send the lookups and call `done(locations)` once all answered or the cap passed.
local function lookup(bufnr, identifiers, clients, done)
  local options = config.options.definitions
  local results = {} -- results[i] = locations of identifiers[i], in client order
  local pending, requests, finished = 0, {}, false
  local uri = vim.uri_from_bufnr(bufnr)
  local function finish()
    if finished then
      return
    end
    finished = true
    for _, r in ipairs(requests) do -- late answers are of no use: tell the servers
      pcall(function()
        if has_011 then
          r.client:cancel_request(r.id)
        else
          r.client.cancel_request(r.id)
        end
      end)
    end
    local out, seen = {}, {}
    for i = 1, #identifiers do
      for _, loc in ipairs(results[i] or {}) do
        local key = loc.uri .. ":" .. loc.range.start.line
        -- This buffer is sent whole as the current file: its own spans would repeat it.
        if loc.uri ~= uri and not seen[key] and #out < M.MAX_LOCATIONS then
          seen[key] = true
          out[#out + 1] = loc
        end
      end
    end
    done(out)
  end
  for i, ident in ipairs(identifiers) do
    local line = vim.api.nvim_buf_get_lines(bufnr, ident.row, ident.row + 1, false)[1] or ""
    for _, client in ipairs(clients) do
      local params = {
        textDocument = { uri = uri },
        position = { line = ident.row, character = character(client, line, ident.col) },
      }
      local function handler(err, result)
        pending = pending - 1
        if not err and result then
          local list = result.uri and { result } or (vim.islist(result) and result or {})
          results[i] = results[i] or {}
          for _, item in ipairs(list) do
            local loc = location(item)
            if loc and loc.range and loc.range.start then
              table.insert(results[i], loc)
            end
          end
        end
        if pending == 0 then
          finish()
        end
      end
      local ok, sent, id
      if has_011 then
        ok, sent, id = pcall(client.request, client, "textDocument/definition", params, handler, bufnr)
      else
        ok, sent, id = pcall(client.request, "textDocument/definition", params, handler, bufnr)
      end
      if ok and sent then
        pending = pending + 1
        requests[#requests + 1] = { client = client, id = id }
      end
    end
  end
  if pending == 0 then
    finish()
    return
  end
  vim.defer_fn(finish, options.timeout_ms)
end

--- Call `callback(locations)` with the definitions of the identifiers in rows `first`..`last`
--- (0-based, inclusive; the cursor's row first) of `bufnr`: an empty list when turned off,
--- when no other language server is attached, or on any error. Always asynchronous-safe:
--- the callback runs at most `timeout_ms` later.
---@param bufnr integer
---@param first integer
---@param last integer
---@param cursor integer
---@param callback fun(locations: table[])
function M.collect(bufnr, first, last, cursor, callback)
  local options = config.options.definitions
  local once = false
  local function reply(locations)
    if not once then
      once = true
      callback(locations)
    end
  end
  local ok, err = pcall(function()
    if not options.enabled or not vim.api.nvim_buf_is_valid(bufnr) then
      return reply({})
    end
    local clients = other_clients(bufnr)
    if #clients == 0 then
      return reply({})
    end
    local count = vim.api.nvim_buf_line_count(bufnr)
    first, last = math.max(0, first), math.min(count - 1, last)
    local key = table.concat({ vim.api.nvim_buf_get_changedtick(bufnr), first, last, cursor }, ":")
    local entry = M.cache[bufnr]
    if entry and entry.key == key then
      if entry.locations then
        return reply(entry.locations)
      end
      table.insert(entry.waiting, reply)
      return
    end
    entry = { key = key, locations = nil, waiting = { reply } }
    M.cache[bufnr] = entry
    local identifiers = M.identifiers(bufnr, first, last, cursor, options.max_identifiers)
    lookup(bufnr, identifiers, clients, function(locations)
      entry.locations = locations
      for _, waiting in ipairs(entry.waiting) do
        pcall(waiting, locations)
      end
      entry.waiting = {}
    end)
  end)
  if not ok then
    require("kimi.log").debug("definitions: " .. tostring(err))
    reply({})
  end
end

--- Like `collect`, around the cursor row (± `window` lines) or over a selection's rows.
---@param bufnr integer
---@param range table|nil  an LSP range (the selection), or nil for the cursor
---@param cursor integer|nil  0-based cursor row (nil: the first row of `range`, or 0)
---@param callback fun(locations: table[])
function M.around(bufnr, range, cursor, callback)
  local window = config.options.definitions.window
  if range then
    local last = range["end"].line
    if range["end"].character == 0 and last > range.start.line then
      last = last - 1
    end
    return M.collect(bufnr, range.start.line, last, cursor or range.start.line, callback)
  end
  cursor = cursor or 0
  M.collect(bufnr, cursor - window, cursor + window, cursor, callback)
end

--- Put `locations` into `params` as `definitions` when there are any.
---@param params table
---@param locations table[]
---@return table params
function M.attach(params, locations)
  if #locations > 0 then
    params.definitions = locations
  end
  return params
end

vim.api.nvim_create_autocmd({ "BufWipeout", "BufUnload" }, {
  group = vim.api.nvim_create_augroup("kimi.definitions", { clear = true }),
  callback = function(args)
    M.cache[args.buf] = nil
  end,
})

return M
