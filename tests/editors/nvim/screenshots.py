"""Screenshots of edit prediction in real Neovim, for the README.

    python -m tests.editors.nvim.screenshots [OUT_DIR]    (default: docs/images)

writes ghost-text-nvim.png and next-edit-nvim.png. Each starts `nvim --embed --clean` with the
plugin from this repository, the real server (the venv's kimi-lsp) and the fake API of
predict_fake.py, attaches as a UI over msgpack-RPC (ext_linegrid), types as a user would
(nvim_input), waits for the suggestion, and draws the grid it was sent, with its highlight
colours, in DejaVu Sans Mono with Pillow. Needs Neovim 0.11 and Pillow (test extras).
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from tests.editors.nvim.msgpack_rpc import Nvim
from tests.editors.nvim.test_nvim import CLEARED_ENV, KEY, NVIM, PLUGIN, REPO, _kill_group, fake_api
from tests.editors.processes import kill_marked, marked_env

COLS, ROWS = 100, 20
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono{}.ttf"
SIZE = 15
FAKE = "tests.editors.nvim.predict_fake"

STATS = '''"""Small statistics helpers."""

import math


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def variance(values: list[float]) -> float:
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / len(values)


'''
SCALE = '''def scale(value, factor):
    """Multiply value by factor, and say so."""
    result = value * factor
    print(f"scaled {value} by {factor}")
    return result


def shift(x, offset):
    return x + offset
'''

SETUP = """
local plugin, base_url = ...
vim.opt.runtimepath:prepend(plugin)
vim.cmd.runtime("plugin/kimi.lua")
require("kimi").setup({ settings = { baseUrl = base_url, maxRetries = 0 } })
vim.o.number = true
vim.o.laststatus = 2
vim.o.statusline = " %f %m%=%{v:lua.require'kimi'.statusline()} "
"""
ATTACHED = """
local c = vim.lsp.get_clients({ name = "kimi", bufnr = 0 })[1]
return c ~= nil and c.initialized == true
"""
CURSOR = """
local p = vim.fn.screenpos(0, vim.fn.line("."), vim.fn.col("."))
return { p.row, p.col }
"""
GHOST_SHOWN = "return require('kimi.predict.ghost').shown(0) ~= nil"
NEXT_SHOWN = """
local s = require('kimi.predict.next_edit').buffers[vim.api.nvim_get_current_buf()]
return s ~= nil and s.edits ~= nil
"""


class Screen:
    """The default grid as the UI events describe it: cells of (text, highlight id)."""

    def __init__(self) -> None:
        self.cells = [[(" ", 0)] * COLS for _ in range(ROWS)]
        self.attrs: dict[int, dict[str, Any]] = {0: {}}
        self.fg, self.bg = 0xFFFFFF, 0x000000
        self.cursor = (0, 0)
        self.mode = "normal"
        self.flushes = 0

    def apply(self, batch: list[Any]) -> None:
        for event in batch:
            name, calls = event[0], event[1:]
            handler = getattr(self, "on_" + name, None)
            if handler is None:
                continue  # events the picture does not need (options, mode info, ...)
            for args in calls:
                handler(*args)

    def on_default_colors_set(self, fg: int, bg: int, *_: Any) -> None:
        self.fg = fg if fg >= 0 else self.fg
        self.bg = bg if bg >= 0 else self.bg

    def on_hl_attr_define(self, hl: int, rgb: dict[str, Any], *_: Any) -> None:
        self.attrs[hl] = rgb

    def on_grid_resize(self, grid: int, width: int, height: int) -> None:
        if grid == 1:
            self.cells = [[(" ", 0)] * width for _ in range(height)]

    def on_grid_clear(self, grid: int) -> None:
        self.cells = [[(" ", 0)] * len(row) for row in self.cells]

    def on_grid_cursor_goto(self, grid: int, row: int, col: int) -> None:
        self.cursor = (row, col)

    def on_mode_change(self, mode: str, _index: int) -> None:
        self.mode = mode

    def on_flush(self) -> None:
        self.flushes += 1

    def on_grid_line(self, grid: int, row: int, col: int, cells: list[Any], *_: Any) -> None:
        hl = 0
        for cell in cells:
            text = cell[0]
            hl = cell[1] if len(cell) > 1 else hl
            for _repeat in range(cell[2] if len(cell) > 2 else 1):
                if col < len(self.cells[row]):
                    self.cells[row][col] = (text, hl)
                col += 1

    def on_grid_scroll(self, grid: int, top: int, bot: int, left: int, right: int,
                       rows: int, _cols: int) -> None:  # fmt: skip
        order = range(top, bot - rows) if rows > 0 else range(bot - 1, top - rows - 1, -1)
        for row in order:
            self.cells[row][left:right] = self.cells[row + rows][left:right]

    def colors(self, hl: int) -> tuple[int, int, dict[str, Any]]:
        attr = self.attrs.get(hl, {})
        fg, bg = attr.get("foreground", self.fg), attr.get("background", self.bg)
        return (bg, fg, attr) if attr.get("reverse") else (fg, bg, attr)


def rgb(n: int) -> tuple[int, int, int]:
    return (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF


def render(screen: Screen, out: Path) -> None:
    """Draw the grid: each cell's background, then its text in its style, then the cursor."""
    fonts = {
        (bold, italic): ImageFont.truetype(FONT.format(
            "-" * (bold or italic) + "Bold" * bold + "Oblique" * italic), SIZE)
        for bold in (False, True) for italic in (False, True)
    }  # fmt: skip
    width, height = round(fonts[False, False].getlength("M")), round(SIZE * 1.4)
    image = Image.new("RGB", (COLS * width, len(screen.cells) * height), rgb(screen.bg))
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(screen.cells):
        for c, (text, hl) in enumerate(row):
            fg, bg, attr = screen.colors(hl)
            x, y = c * width, r * height
            draw.rectangle((x, y, x + width - 1, y + height - 1), fill=rgb(bg))
            if text.strip():
                font = fonts[bool(attr.get("bold")), bool(attr.get("italic"))]
                draw.text((x, y + 2), text, font=font, fill=rgb(fg))
    cursor_row, cursor_col = screen.cursor
    x, y = cursor_col * width, cursor_row * height
    bar = 2 if screen.mode.startswith("insert") else width
    draw.rectangle((x, y, x + bar - 1, y + height - 1), fill=rgb(screen.fg))
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out)


@contextlib.contextmanager
def embedded(tmp: Path, base_url: str, files: dict[str, str]) -> Iterator[tuple[Nvim, Screen]]:
    """`nvim --embed` in an isolated environment, attached as a UI, the plugin set up."""
    assert NVIM is not None
    workspace = tmp / "workspace"
    (workspace / ".git").mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (workspace / rel).write_text(text, encoding="utf-8")
    marker = uuid.uuid4().hex
    env = marked_env(tmp / "home", marker, CLEARED_ENV)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    env["MOONSHOT_API_KEY"] = KEY
    proc = subprocess.Popen(
        [NVIM, "--embed", "--clean", "-n"], cwd=workspace, env=env, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        nvim, screen = Nvim(proc), Screen()
        nvim.request("nvim_ui_attach", COLS, ROWS, {"ext_linegrid": True, "rgb": True})
        nvim.lua(SETUP, str(PLUGIN), base_url)
        yield nvim, screen
    finally:
        _kill_group(proc)
        kill_marked(marker)


def settle(nvim: Nvim, screen: Screen, condition: str, what: str, timeout: float = 30) -> None:
    """Apply UI events until the Lua `condition` holds and a redraw after it was flushed."""
    deadline = time.monotonic() + timeout
    while not nvim.lua(condition):
        drain(nvim, screen, until=lambda: False, wait=0.05)
        if time.monotonic() > deadline:
            raise TimeoutError(f"waiting for {what}")
    nvim.request("nvim_command", "redraw!")
    flushes = screen.flushes
    drain(nvim, screen, until=lambda: screen.flushes > flushes, wait=timeout)
    # The grid's cursor may sit in the command line (after "-- INSERT --"): draw the window's.
    row, col = nvim.lua(CURSOR)
    screen.cursor = (row - 1, col - 1)


def drain(nvim: Nvim, screen: Screen, until: Callable[[], bool], wait: float) -> None:
    """Apply queued UI events; block up to `wait` seconds for more until `until()` holds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            method, args = nvim.events.get(timeout=max(deadline - time.monotonic(), 0.001))
        except queue.Empty:
            return
        if method == "redraw":
            screen.apply(args)
        if until():
            return


def ghost_text(tmp: Path, base_url: str, out: Path) -> None:
    with embedded(tmp, base_url, {"stats.py": STATS}) as (nvim, screen):
        nvim.request("nvim_command", "edit stats.py")
        settle(nvim, screen, ATTACHED, "the kimi client")
        nvim.request("nvim_input", "Gidef stdev(values")
        settle(nvim, screen, GHOST_SHOWN, "ghost text")
        render(screen, out)


def next_edit(tmp: Path, base_url: str, out: Path) -> None:
    with embedded(tmp, base_url, {"scale.py": SCALE}) as (nvim, screen):
        nvim.request("nvim_command", "edit scale.py")
        settle(nvim, screen, ATTACHED, "the kimi client")
        nvim.request("nvim_win_set_cursor", 0, [1, 10])
        nvim.request("nvim_input", "ciwamount<Esc>")
        settle(nvim, screen, NEXT_SHOWN, "next edits")
        nvim.request("nvim_input", "]k")
        settle(nvim, screen, "return vim.fn.line('.') > 1", "the jump")
        render(screen, out)


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else REPO / "docs" / "images"
    with tempfile.TemporaryDirectory() as tmp, fake_api(Path(tmp), [], module=FAKE) as fake:
        ghost_text(Path(tmp) / "ghost", fake.base_url, out_dir / "ghost-text-nvim.png")
        next_edit(Path(tmp) / "next", fake.base_url, out_dir / "next-edit-nvim.png")
    print(f"wrote {out_dir / 'ghost-text-nvim.png'} and {out_dir / 'next-edit-nvim.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
