"""Editor-supplied definitions (v2): validated at the boundary, read into slices or skipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kimi_lsp.context.editor_spans import (
    MAX_EDITOR_DEFINITIONS,
    MAX_SPAN_LINES,
    read_definitions,
    span_slice,
)
from kimi_lsp.context.engine import ContextEngine
from kimi_lsp.context.focus import Location
from kimi_lsp.documents import Position, Range
from kimi_lsp.errors import InvalidInputError
from kimi_lsp.lsp.features import params as p
from kimi_lsp.tokens.counter import TokenCounter

SHAPES = "import math\n\n\n@dataclass\nclass Circle:\n    r: float\n\n    def area(self):\n" \
    "        return math.pi * self.r ** 2\n\n\nUNIT = Circle(1)\n"  # fmt: skip


def loc(uri: str, line: int, character: int = 0, end: tuple[int, int] | None = None) -> Location:
    end_line, end_char = end or (line, character + 1)
    return Location(uri, Range(Position(line, character), Position(end_line, end_char)))


def wire(line: Any = 3, *, uri: Any = "file:///w/a.py") -> dict[str, Any]:
    return {
        "uri": uri,
        "range": {"start": {"line": line, "character": 0}, "end": {"line": 3, "character": 5}},
    }


# -- validation at the boundary --------------------------------------------------------------


def test_valid_locations_are_parsed_in_order() -> None:
    parsed = p.locations({"definitions": [wire(), wire(2, uri="file:///w/b.py")]})
    assert [(x.uri, x.range.start.line, x.range.end.character) for x in parsed] == [
        ("file:///w/a.py", 3, 5),
        ("file:///w/b.py", 2, 5),
    ]
    assert p.locations({}) == () and p.locations({"definitions": None}) == ()


@pytest.mark.parametrize(
    ("definitions", "sentence"),
    [
        ("x", "definitions must be a list of Locations ({uri, range})."),
        ([wire(), 7], "definitions[1] must be a Location object ({uri, range})."),
        ([wire(), wire(-1)], "definitions[1].range.start.line must be a non-negative integer."),
        ([wire(True)], "definitions[0].range.start.line must be a non-negative integer."),
        ([wire(), wire(), {"uri": "file:///x"}], "definitions[2].range is missing."),
        ([{"range": wire()["range"]}], "definitions[0].uri is missing."),
        ([wire(uri=3)], "definitions[0].uri must be a non-empty string."),
        ([{"uri": "file:///x", "range": {"start": {"line": 1, "character": 0}}}],
         "definitions[0].range.end is missing."),
        ([{"uri": "file:///x", "range": {"start": {"line": 1}, "end": {"line": 1}}}],
         "definitions[0].range.start.character is missing."),
        ([wire(4)], "definitions[0].range ends before it starts."),
    ],
)  # fmt: skip
def test_malformed_locations_are_named(definitions: Any, sentence: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        p.locations({"definitions": definitions})
    assert caught.value.message == sentence


# -- one span from a text --------------------------------------------------------------------


def test_a_name_location_grows_to_the_whole_definition_with_decorators() -> None:
    made = span_slice(loc("file:///w/shapes.py", 4, 6), SHAPES, "shapes.py", "python", 0)
    assert not isinstance(made, str)
    assert made.lines == (3, 9) and made.text.startswith("@dataclass\nclass Circle:\n")
    assert made.text.endswith("return math.pi * self.r ** 2\n")
    assert made.reason == "definition the editor located for `Circle`"
    assert made.origin == "editor" and made.rel == "shapes.py"


def test_a_method_and_a_constant() -> None:
    method = span_slice(loc("file:///w/s.py", 7, 8), SHAPES, "s.py", "python", 1)
    constant = span_slice(loc("file:///w/s.py", 11, 0), SHAPES, "s.py", "python", 2)
    assert not isinstance(method, str) and not isinstance(constant, str)
    assert method.lines == (7, 9) and "`area`" in method.reason
    assert constant.text == "UNIT = Circle(1)\n" and "`UNIT`" in constant.reason


def test_a_range_past_the_end_is_refused() -> None:
    made = span_slice(loc("file:///w/s.py", 40), SHAPES, "s.py", "python", 0)
    assert made == "range past the end (line 41, the file has 12 lines)"


def test_a_huge_definition_is_cut() -> None:
    text = "def big():\n" + "    x = 1\n" * 2_000
    made = span_slice(loc("file:///w/big.py", 0, 4), text, "big.py", "python", 0)
    assert not isinstance(made, str)
    assert made.lines == (0, MAX_SPAN_LINES) and made.text.count("\n") == MAX_SPAN_LINES
    wide = "def wide():\n" + ("    y = '" + "z" * 990 + "'\n") * 100
    cut = span_slice(loc("file:///w/w.py", 0, 4), wide, "w.py", "python", 0)
    assert not isinstance(cut, str) and len(cut.text.encode()) <= 40_000


# -- where the text comes from ---------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[ContextEngine, Path, Path]:
    ws, outside = tmp_path / "ws", tmp_path / "site-packages"
    files = {
        "shapes.py": SHAPES,
        "main.py": "from shapes import Circle\n",
        ".env": "TOKEN=abc\n",
        ".gitignore": "build/\n",
        "build/gen.py": "def gen():\n    pass\n",
    }
    (ws / ".git").mkdir(parents=True)
    for rel, text in files.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text)
    (ws / "blob.py").write_bytes(b"\x00\x01def x(): pass\n")
    outside.mkdir()
    (outside / "lib.py").write_text("\n".join(f"# {i}" for i in range(50)) + "\ndef lib():\n"
                                     "    return 1\n")  # fmt: skip
    (outside / "id_rsa").write_text("def not_a_key():\n    pass\n")
    engine = ContextEngine(TokenCounter())
    engine.configure([ws], [], 1_000_000)
    engine.build_index()
    return engine, ws, outside


def test_sources_open_document_disk_outside_and_the_skipped(
    workspace: tuple[ContextEngine, Path, Path],
) -> None:
    engine, ws, outside = workspace
    shapes, main = (ws / "shapes.py").as_uri(), (ws / "main.py").as_uri()
    locations = [
        loc(shapes, 4, 6),  # from the open document (unsaved text)
        loc((outside / "lib.py").as_uri(), 50, 4),  # outside: that span only
        loc((ws / ".env").as_uri(), 0),
        loc((ws / "build" / "gen.py").as_uri(), 0, 4),
        loc((ws / "blob.py").as_uri(), 0),
        loc((outside / "id_rsa").as_uri(), 0),
        loc((ws / "gone.py").as_uri(), 0),
        loc(shapes, 40),
        loc(main, 0),  # the focused document: already sent whole
        loc(shapes, 4, 8),  # the same definition again
    ]
    unsaved = SHAPES.replace("class Circle:", "class Circle:  # edited")
    slices, skipped = read_definitions(
        engine, locations, {shapes: (unsaved, "python")}, main, 1_000_000
    )
    assert [(s.rel, s.lines) for s in slices] == [("shapes.py", (3, 9)), (None, (50, 52))]
    assert "# edited" in slices[0].text and [s.rank for s in slices] == [0, 1]
    assert slices[1].text == "def lib():\n    return 1\n" and slices[1].language == "python"
    reasons = {uri.rsplit("/", 1)[-1]: reason for uri, reason in skipped}
    assert reasons["shapes.py"] == "definition from the editor (line 41): range past the end " \
        "(line 41, the file has 12 lines)"  # fmt: skip
    assert reasons[".env"].endswith("secret file (.env)")
    assert reasons["id_rsa"].endswith("secret file (private key)")
    assert "gitignore" in reasons["gen.py"] and reasons["blob.py"].endswith("binary file")
    assert reasons["gone.py"].endswith("no such file")
    assert set(reasons) == {"shapes.py", ".env", "id_rsa", "gen.py", "blob.py", "gone.py"}


def test_disk_text_and_the_cap_on_how_many(workspace: tuple[ContextEngine, Path, Path]) -> None:
    engine, ws, _ = workspace
    (ws / "consts.py").write_text("".join(f"C{i} = {i}\n" for i in range(30)))
    engine.refresh([ws / "consts.py"])
    many = [loc((ws / "shapes.py").as_uri(), 4, 6)]
    many += [loc((ws / "consts.py").as_uri(), line) for line in range(20)]
    slices, skipped = read_definitions(engine, many, {}, None, 1_000_000)
    assert len(slices) == MAX_EDITOR_DEFINITIONS
    assert slices[0].text.startswith("@dataclass\nclass Circle:\n")  # read from disk
    assert [s.text for s in slices[1:3]] == ["C0 = 0\n", "C1 = 1\n"]
    assert len(skipped) == 21 - MAX_EDITOR_DEFINITIONS
    assert skipped[0] == (
        (ws / "consts.py").as_uri(),
        f"definition from the editor (line 16): more than {MAX_EDITOR_DEFINITIONS} sent",
    )
