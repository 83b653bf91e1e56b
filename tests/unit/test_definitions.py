"""Definitions first: identifiers a window uses, their resolution through imports, slices."""

from __future__ import annotations

from kimi_lsp.context.definitions import (
    ModuleInfo,
    ModuleInfos,
    Resolver,
    module_info,
    resolve_uses,
)
from kimi_lsp.context.identifiers import uses_in_window, window_of
from kimi_lsp.context.imports import imports_of
from kimi_lsp.context.resolve import FileSet
from kimi_lsp.context.slicing import group_uses, make_slices, rank_of, slice_text
from kimi_lsp.context.symbols import outline

FILES = {
    "pkg/__init__.py": "from .futures import *\nfrom .shapes import Square as Sq\n",
    "pkg/futures.py": (
        "__all__ = ('Future', 'wrap')\n\n\nclass Future:\n    '''A future.'''\n\n"
        "    def done(self):\n        return True\n\n\n_PyFuture = Future\n\n\n"
        "def wrap(x):\n    return x\n"
    ),
    "pkg/shapes.py": "class Square:\n    side: int\n\n\ndef area(s):\n    return s.side ** 2\n",
    "pkg/tasks.py": (
        "from . import futures\n"
        "from .shapes import area as surface\n"
        "import pkg.shapes\n"
        "from pkg import Future, Sq\n\n\n"
        "class Task(futures._PyFuture):\n"
        "    def run(self, f: Future) -> None:\n"
        "        surface(pkg.shapes.Square())\n"
        "        f.done()\n"
        "        Sq()\n"
    ),
}


def resolver() -> Resolver:
    infos = {rel: module_info(text, "python") for rel, text in FILES.items()}
    return Resolver(FileSet(FILES), infos.get, "python")


def resolved_names(rel: str, cursor: int) -> dict[str, tuple[str, str | None]]:
    text = FILES[rel]
    here = module_info(text, "python")
    uses = uses_in_window(text, "python", window_of(text, None, cursor), here.symbols, cursor)
    out = {}
    for found, written, _ in resolve_uses(resolver(), rel, uses, here):
        out[".".join(written)] = (found.rel, found.symbol.name if found.symbol else None)
    return out


def test_imports_record_the_names_they_bind() -> None:
    text = "import a.b\nimport a.b as c\nfrom .m import X as Y, Z\nfrom .f import *\n"
    for exact in (True, False):
        bound = [(r.spec, r.bound) for r in imports_of(text, "python", exact=exact)]
        assert bound == [("a.b", ("a",)), ("a.b", ("c",)), (".m", ("Y", "Z")), (".f", ("*",))]


def test_window_uses_names_chains_and_the_enclosing_signature() -> None:
    text = FILES["pkg/tasks.py"]
    symbols = outline(text, "python", exact=False)
    uses = uses_in_window(text, "python", (9, 9), symbols, 9)  # only `f.done()` in the window
    assert ("f", "done") in uses.chains and uses.chains[("f", "done")] == [9]
    assert ("futures", "_PyFuture") in uses.chains  # the class's base
    assert ("Future",) in uses.chains  # the method's annotation
    assert uses.types[("f",)] == ("Future",)
    assert "done" in uses.members
    assert ("surface",) not in uses.chains  # line 8 is outside the window


def test_window_of_a_file_that_does_not_parse_uses_tokens() -> None:
    text = "from m import Thing\n\ndef f(x: Thing):\n    y = Thing.make(  # unfinished\n    z = \n"
    symbols = outline(text, "python", exact=False)
    uses = uses_in_window(text, "python", window_of(text, None, 3), symbols, 3)
    assert ("Thing", "make") in uses.chains
    assert uses.types[("x",)] == ("Thing",)


def test_resolution_through_each_import_form() -> None:
    found = resolved_names("pkg/tasks.py", 8)
    assert found["futures._PyFuture"] == ("pkg/futures.py", "Future")  # alias followed
    assert found["surface"] == ("pkg/shapes.py", "area")  # from .m import X as Y
    assert found["pkg.shapes.Square"] == ("pkg/shapes.py", "Square")  # import a.b; a.b.C
    assert found["Future"] == ("pkg/futures.py", "Future")  # package re-export via *
    assert found["Sq"] == ("pkg/shapes.py", "Square")  # re-export with an alias
    assert found["f.done"] == ("pkg/futures.py", "Future")  # annotated parameter → its class
    assert "Task" not in found  # defined in the current file: already sent


def test_star_import_respects_all() -> None:
    infos = {rel: module_info(text, "python") for rel, text in FILES.items()}
    r = Resolver(FileSet(FILES), infos.get, "python")
    assert r.name("pkg/__init__.py", "wrap") is not None
    assert r.name("pkg/__init__.py", "_PyFuture") is None  # not in futures.__all__


def test_slices_name_why_and_rank_by_distance_and_count() -> None:
    rel = "pkg/tasks.py"
    text = FILES[rel]
    here = module_info(text, "python")
    uses = uses_in_window(text, "python", window_of(text, None, 7), here.symbols, 7)
    grouped = group_uses(resolve_uses(resolver(), rel, uses, here), uses.members)

    def read(other: str) -> tuple[str, str, ModuleInfo]:
        return FILES[other], "python", module_info(FILES[other], "python")

    slices = make_slices(grouped, 6, read, lambda other: f"file:///ws/{other}")
    first = slices[0]
    assert first.rel == "pkg/futures.py" and first.text.startswith("class Future:")
    assert first.reason.startswith("defines `Future`, `_PyFuture`")
    assert first.rank == min(s.rank for s in slices)
    assert rank_of([10], 0) > rank_of([3], 0) > rank_of([3, 3, 3], 0)


def test_a_big_class_is_its_head_member_headers_and_the_members_used() -> None:
    method = "    def m{0}(self):\n        x = {0}\n        return x\n\n"
    methods = "".join(method.format(i) for i in range(40))
    text = f"class Big:\n    '''Doc.'''\n    size = 1\n\n{methods}"
    symbols = outline(text, "python", exact=False)
    big = symbols[0]
    body, span = slice_text(text, "python", big, symbols, {"m7"})
    assert span == (0, big.end_line + 1 if big.end_line is not None else 1)
    assert "'''Doc.'''" in body and "size = 1" in body
    assert "    def m7(self):\n        x = 7\n        return x" in body  # used: whole
    assert "    def m8(self): ...  # line" in body  # not used: its header
    assert body.count("\n") < text.count("\n") / 2


def test_a_top_level_assignment_is_a_definition_too() -> None:
    text = 'from typing import Union\n\nStyleType = Union[\n    str, "Style"\n]\n'
    symbol = module_info(text, "python").top["StyleType"]
    assert (symbol.line, symbol.end_line, symbol.signature) == (2, 4, "StyleType = Union[")


def test_a_submodule_bound_as_an_attribute_resolves_through_it() -> None:
    files = {
        "os.py": "import sys\nif sys:\n    import posixpath as path\nfrom os.path import curdir\n",
        "posixpath.py": "curdir = '.'\n\n\ndef join(a, b):\n    return a\n",
        "use.py": "import os\nimport os.path as osp\n",
    }
    infos = {rel: module_info(text, "python") for rel, text in files.items()}
    r = Resolver(FileSet(files), infos.get, "python")
    curdir = r.chain("use.py", ("os", "curdir"))  # os's `from os.path import curdir`
    assert curdir is not None and curdir.rel == "posixpath.py"
    assert curdir.symbol is not None and curdir.symbol.name == "curdir"
    join = r.chain("use.py", ("osp", "join"))  # `import os.path as osp`
    assert join is not None and join.rel == "posixpath.py"
    assert join.symbol is not None and join.symbol.name == "join"


INHERIT = {
    "widgets/__init__.py": "",
    "widgets/base.py": (
        "class Pack:\n    def pack_configure(self):\n        pass\n\n"
        "    pack = configure = pack_configure\n\n\n"
        "class Widget(Pack):\n    def destroy(self):\n        pass\n"
    ),
    "widgets/text.py": (
        "from widgets import base\n\n\n"
        "class Text(base.Widget):\n    def insert(self, s):\n        pass\n"
    ),
    "app.py": (
        "from widgets.text import Text\nfrom widgets.base import Widget\n\n\n"
        "def main(other: Widget):\n"
        "    text = Text()\n"
        "    other = Text()\n"
        "    text.pack()\n"
        "    text.destroy()\n"
        "    text.insert('x')\n"
        "    other.missing()\n"
    ),
}


def test_a_member_used_on_an_instance_is_found_in_the_class_or_its_bases() -> None:
    infos = {rel: module_info(text, "python") for rel, text in INHERIT.items()}
    base = infos["widgets/base.py"]
    assert base.attributes(base.symbols[0]) == frozenset({"pack_configure", "pack", "configure"})
    r = Resolver(FileSet(INHERIT), infos.get, "python")
    text = INHERIT["app.py"]
    here = infos["app.py"]
    uses = uses_in_window(text, "python", window_of(text, None, 7), here.symbols, 7)
    assert uses.types[("text",)] == ("Text",)  # `text = Text()` types the local
    assert uses.types[("other",)] == ("Widget",)  # the annotation wins
    found = {
        ".".join(written): (f.rel, f.symbol.name if f.symbol else None, f.members)
        for f, written, _ in resolve_uses(r, "app.py", uses, here)
    }
    assert found["text.pack"] == ("widgets/base.py", "Pack", ("pack",))  # two levels up
    assert found["text.destroy"] == ("widgets/base.py", "Widget", ("destroy",))
    assert found["text.insert"] == ("widgets/text.py", "Text", ("insert",))
    assert found["other.missing"] == ("widgets/base.py", "Widget", ("missing",))  # its own


def test_a_local_from_a_call_is_typed_by_the_function_return_annotation() -> None:
    files = {
        "core.py": "class Context:\n    def find(self):\n        pass\n",
        "globals.py": (
            "from core import Context\n\n\ndef current() -> Context | None:\n    return None\n"
        ),
        "use.py": (
            "from globals import current\n\n\n"
            "def f():\n    ctx = current()\n    ctx.find()\n    other = len([])\n    other.x\n"
        ),
    }
    infos = {rel: module_info(text, "python") for rel, text in files.items()}
    text, here = files["use.py"], infos["use.py"]
    uses = uses_in_window(text, "python", window_of(text, None, 5), here.symbols, 5)
    assert uses.returns[("ctx",)] == ("current",)
    r = Resolver(FileSet(files), infos.get, "python")
    found = {".".join(w): (f.rel, f.symbol.name if f.symbol else None)
             for f, w, _ in resolve_uses(r, "use.py", uses, here)}  # fmt: skip
    assert found["ctx.find"] == ("core.py", "Context")
    assert "other.x" not in found  # len is no workspace function


def test_resolving_through_a_file_needs_only_its_top_level() -> None:
    infos = {rel: module_info(text, "python") for rel, text in FILES.items()}
    r = Resolver(FileSet(FILES), infos.get, "python")
    found = r.chain("pkg/tasks.py", ("futures", "_PyFuture"))
    assert found is not None and found.rel == "pkg/futures.py"
    assert found.symbol is not None and found.symbol.name == "Future"
    # Looked through, not sliced: no file had its members outlined.
    assert all("symbols" not in info.__dict__ for info in infos.values())
    member = r.chain("pkg/tasks.py", ("Future", "done"))  # a member: that class's block only
    assert member is not None and member.members == ("done",)
    assert all("symbols" not in info.__dict__ for info in infos.values())
    assert [rel for rel, info in infos.items() if info._blocks] == ["pkg/futures.py"]


def test_top_level_parts_are_the_same_before_and_after_the_full_outline() -> None:
    text = FILES["pkg/futures.py"] + "LIMIT: int = 3\nalias = other.name\n"
    lazy, full = module_info(text, "python"), module_info(text, "python")
    assert full.symbols[0].name == "Future"  # computed first: the top level comes from it
    assert lazy.top == full.top and lazy.aliases == full.aliases
    assert lazy.top_symbols == full.top_symbols
    assert lazy.exports == full.exports == frozenset({"Future", "wrap"})
    assert set(lazy.top) == {"__all__", "Future", "wrap", "LIMIT"}  # aliases are followed
    assert lazy.aliases == {"_PyFuture": ("Future",), "alias": ("other", "name")}


def test_module_infos_keep_a_bounded_amount_of_text() -> None:
    infos = ModuleInfos(entries=100, chars=25)
    first = infos.get("a.py", "x = 1\n" * 3, "python")
    assert infos.get("a.py", "x = 1\n" * 3, "python") is first  # remembered by content
    infos.get("b.py", "y = 2\n" * 3, "python")
    infos.get("c.py", "z = 3\n" * 3, "python")  # 54 characters held: the oldest goes
    assert infos.get("a.py", "x = 1\n" * 3, "python") is not first


def test_a_slice_outlines_only_the_block_it_is_taken_from() -> None:
    head = "import os\n\n\nclass Small:\n    x = 1\n\n\n"
    body = "".join(f"    def m{i}(self):\n        return {i}\n\n" for i in range(40))
    tail = "\n\ndef after():\n    class Inner:\n        pass\n"
    text = head + "class Big(Small):\n    size = limit = 3\n" + body + tail
    info = module_info(text, "python")
    big = info.top["Big"]
    block = info.members(big)
    assert "symbols" not in info.__dict__  # the file was not outlined as a whole
    assert block == tuple(s for s in outline(text, "python", exact=False)
                          if big.line <= s.line <= (big.end_line or big.line))  # fmt: skip
    assert [s.name for s in block[:3]] == ["Big", "m0", "m1"] and block[1].depth == 1
    assert info.attributes(big) == frozenset({"size", "limit", *(f"m{i}" for i in range(40))})
    assert info.attributes(info.top["after"]) is None  # not a class
    body_text, span = slice_text(text, "python", big, block, {"m3"})
    assert "        return 3" in body_text and "def m4(self): ...  # line" in body_text
    assert span == (big.line, (big.end_line or 0) + 1)


def test_an_alias_of_what_the_workspace_does_not_define_is_its_own_line() -> None:
    files = {
        "tk.py": (
            "import _tk\n\nTclError = _tk.TclError\n_lock = _tk.allocate_lock\nLock = _lock\n"
            "Known = Thing\n\n\nclass Thing:\n    pass\n"
        ),
        "use.py": "from tk import TclError, Lock, Known\n",
    }
    infos = {rel: module_info(text, "python") for rel, text in files.items()}
    r = Resolver(FileSet(files), infos.get, "python")
    found = {
        name: (f.rel, f.symbol.name, f.symbol.line) if f and f.symbol else None
        for name in ("TclError", "Lock", "Known")
        for f in [r.chain("use.py", (name,))]
    }
    assert found["TclError"] == ("tk.py", "TclError", 2)  # `_tk` is a C module: not here
    assert found["Lock"] == ("tk.py", "Lock", 4)  # its own line, not `_lock`'s above it
    assert found["Known"] == ("tk.py", "Thing", 8)  # a known target still wins


def test_attributes_and_top_level_locals_are_typed_by_what_constructs_them() -> None:
    text = (
        "from widgets import Canvas, _Selector\n\n\n"
        "class Tree:\n"
        "    def __init__(self, master):\n"
        "        self.canvas = Canvas(master)\n"
        "        self.sel: _Selector = make()\n\n"
        "    def clear(self):\n"
        "        self.canvas.delete(1)\n"
        "        self.sel.select()\n\n\n"
        'if __name__ == "__main__":\n'
        "    table = Table(title='x')\n"
        "    sel = _Selector()\n"
        "    table.add_row(sel.select())\n"
    )
    symbols = outline(text, "python", exact=False)
    uses = uses_in_window(text, "python", (9, 10), symbols, 9)
    assert uses.types[("self", "canvas")] == ("Canvas",)
    assert uses.types[("self", "sel")] == ("_Selector",)  # an annotation, private or not
    uses = uses_in_window(text, "python", (16, 16), symbols, 16)
    assert uses.types[("table",)] == ("Table",)
    assert uses.types[("sel",)] == ("_Selector",)


def test_an_attribute_set_in_a_method_is_defined_by_that_line() -> None:
    files = {
        "core.py": (
            "class Base:\n"
            "    def __init__(self, message):\n"
            "        self.message = message\n\n\n"
            "class Context(Base):\n"
            "    command: Command\n"
            "    limit: int = 3\n\n"
            "    def __init__(self, command):\n"
            "        self.command = command\n"
            "        self.name, self.opts = split(\n"
            "            command)\n"
            + "".join(f"\n    def m{i}(self):\n        pass\n" for i in range(20))  # a big class
        ),
        "use.py": "from core import Context\n",
    }
    infos = {rel: module_info(text, "python") for rel, text in files.items()}
    r = Resolver(FileSet(files), infos.get, "python")

    def where(member: str) -> tuple[str | None, int | None, int | None]:
        f = r.chain("use.py", ("Context", member))
        assert f is not None and f.symbol is not None and f.members == (member,)
        return f.symbol.name, f.symbol.line, f.symbol.end_line

    assert where("command") == ("command", 10, 10)  # declared only: where it is set
    assert where("opts") == ("opts", 11, 12)  # one of several targets, brackets open
    assert where("message") == ("Base", 0, 2)  # set by a small base class: all of it
    assert where("limit")[:2] == ("Context", 5)  # given a value in the class body: the class
    assert where("missing")[:2] == ("Context", 5)


def test_with_except_and_for_bind_names_typed_like_what_they_come_from() -> None:
    text = (
        "import errors\n\n\n"
        "class Job:\n"
        "    def __init__(self):\n"
        "        self.worker = \\\n"
        "            threading.Thread(target=print)\n\n"
        "    def run(self):\n"
        "        a = Turtle()\n"
        "        b = Turtle()\n"
        "        for t in a, b:\n"
        "            t.fill()\n"
        "        with _Selector() as sel:\n"
        "            sel.select()\n"
        "        try:\n"
        "            self.worker.start()\n"
        "        except (errors.Abort, KeyError) as e:\n"
        "            print(e.message)\n"
    )
    symbols = outline(text, "python", exact=False)
    uses = uses_in_window(text, "python", (12, 18), symbols, 12)
    assert uses.types[("t",)] == ("Turtle",)
    assert uses.types[("sel",)] == ("_Selector",)
    assert uses.types[("e",)] == ("errors", "Abort")
    assert uses.types[("self", "worker")] == ("threading", "Thread")  # set over two lines


def test_a_member_is_found_three_bases_up() -> None:
    files = {
        "tk.py": (
            "class Misc:\n    def event_add(self):\n        pass\n\n\n"
            "class BaseWidget(Misc):\n    pass\n\n\n"
            "class Widget(BaseWidget):\n    pass\n\n\n"
            "class Text(Widget):\n    pass\n"
        ),
        "use.py": "from tk import Text\n",
    }
    infos = {rel: module_info(text, "python") for rel, text in files.items()}
    found = Resolver(FileSet(files), infos.get, "python").chain("use.py", ("Text", "event_add"))
    assert found is not None and found.symbol is not None
    assert (found.symbol.name, found.members) == ("Misc", ("event_add",))
