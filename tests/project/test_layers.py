"""The architecture's rules hold in the code: layers, import directions, no cycles."""

from __future__ import annotations

from pathlib import Path

from .layers import cycles, read_package, violations

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "server" / "kimi_lsp"


def test_the_package_keeps_its_layer_rules() -> None:
    modules = read_package(PACKAGE_DIR)
    assert "kimi_lsp.lsp.server" in modules and "kimi_lsp.context.engine" in modules
    assert violations(modules) == []


def _fake(**sources: str) -> dict[str, str]:
    modules = {"kimi_lsp": "", "kimi_lsp.model": "", "kimi_lsp.context": "", "kimi_lsp.lsp": ""}
    modules["kimi_lsp.edits"] = ""
    modules.update({f"kimi_lsp.{name.replace('__', '.')}": text for name, text in sources.items()})
    return modules


def test_a_function_level_import_counts() -> None:
    modules = _fake(
        model__errors="def scrub():\n    from ..context.secrets import redact\n",
        context__secrets="def redact(): ...\n",
    )
    assert violations(modules) == ["kimi_lsp.model.errors:2 (model/) imports context/"]


def test_a_type_checking_import_does_not_count_but_pygls_in_the_core_does() -> None:
    modules = _fake(
        edits__diff=(
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from ..model.types import Usage\n"
            "from lsprotocol import types\n"
        ),
        model__types="class Usage: ...\n",
    )
    assert violations(modules) == ["kimi_lsp.edits.diff:4 imports lsprotocol outside lsp/"]


def test_the_core_may_not_import_the_lsp_layer_nor_the_command_line() -> None:
    modules = _fake(config="from .lsp.server import KimiServer\n", lsp__server="x = 1\n")
    assert violations(modules) == ["kimi_lsp.config:1 (core) imports lsp/"]
    modules = _fake(lsp__server="from ..cli.main import main\n", cli__main="def main(): ...\n")
    modules["kimi_lsp.cli"] = ""
    assert violations(modules) == ["kimi_lsp.lsp.server:1 (lsp/) imports cli/"]


def test_a_cycle_between_subpackages_is_found() -> None:
    modules = _fake(
        chat__a="from ..agent import b\n", agent__b="from ..chat.a import x\n",
        chat="", agent="",
    )  # fmt: skip
    modules["kimi_lsp.chat"] = modules.pop("kimi_lsp.chat", "")
    assert violations(modules) == ["import cycle between agent -> chat"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
