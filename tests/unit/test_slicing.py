"""Definition slices shortened to fit: unused member headers dropped, a long docstring cut."""

from __future__ import annotations

from kimi_lsp.context.slicing import DOC_LINES, members_only


def test_a_slice_too_big_for_its_room_keeps_the_start_of_its_docstring() -> None:
    doc = "".join(f"    line {i} of the story.\n" for i in range(30))
    text = (
        "@dataclass\nclass Context(\n    Base,\n):\n"
        f'    """A context.\n{doc}    """\n\n'
        "    command: Command\n"
        "    def close(self): ...  # line 40\n"
        "    def find_object(self, kind):\n        return self.obj\n"
    )
    short = members_only(text)
    assert short is not None
    lines = short.split("\n")
    assert lines[:5] == ["@dataclass", "class Context(", "    Base,", "):", '    """A context.']
    assert lines[4 + DOC_LINES - 1] == f"    line {DOC_LINES - 2} of the story."
    assert lines[4 + DOC_LINES] == "    [23 more lines of the docstring left out]"
    assert lines[4 + DOC_LINES + 1] == '    """'
    assert "close" not in short  # an unused member's header goes
    assert short.endswith("    def find_object(self, kind):\n        return self.obj\n")


def test_a_short_docstring_and_no_member_headers_leave_nothing_to_shorten() -> None:
    text = 'class A:\n    """One line."""\n\n    def f(self):\n        pass\n'
    assert members_only(text) is None
    doc = "".join(f"    {i}\n" for i in range(DOC_LINES))  # at the limit: kept whole
    assert members_only(f'class A:\n    """Doc.\n{doc}    """\n    x = 1\n') is None
