"""Validity gates for proposed edits: refuse one that breaks a file that used to parse."""

from __future__ import annotations

import ast

__all__ = ["edit_breaks", "python_breaks"]


def _python_error(source: str) -> SyntaxError | ValueError | None:
    try:
        compile(source, "<edit>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError) as exc:  # ValueError: NUL bytes on Python 3.11
        return exc
    return None


def python_breaks(old: str, new: str) -> str | None:
    """Why `new` must not replace `old`, or None.

    None when `new` parses, and also when `old` did not (an edit to a broken file is not
    judged).  Limits of the parser itself (too deep a recursion, memory) are not judged either.
    """
    try:
        if _python_error(old) is not None:
            return None
        error = _python_error(new)
    except (RecursionError, MemoryError):
        return None
    if error is None:
        return None
    if isinstance(error, SyntaxError):
        where = f"line {error.lineno}: " if error.lineno else ""
        reason = error.msg or "invalid syntax"
    else:
        where, reason = "", str(error)
    return f"the edit would make the file unparseable: {where}{reason}"


def edit_breaks(language_id: str, old: str, new: str) -> str | None:
    """The gate for `language_id` (an LSP language identifier); None for languages without one."""
    if language_id == "python":
        return python_breaks(old, new)
    return None
