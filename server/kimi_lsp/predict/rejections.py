"""Suggested next edits by id, and the rejected ones: a rejected edit is not suggested again."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: importing next_extract (difflib, diff) waits for a request
    from .next_extract import Key

MAX_ISSUED = 512
"""Suggestions remembered by id for their outcome (older ids are forgotten: outcome ignored)."""
MAX_REJECTED = 256


class Rejections:
    """Bounded memory of what was suggested (id -> key) and what was rejected (keys)."""

    def __init__(self, max_issued: int = MAX_ISSUED, max_rejected: int = MAX_REJECTED) -> None:
        self._issued: OrderedDict[str, Key] = OrderedDict()
        self._rejected: OrderedDict[Key, None] = OrderedDict()
        self._max_issued = max_issued
        self._max_rejected = max_rejected

    def issued(self, edit_id: str, key: Key) -> None:
        self._issued[edit_id] = key
        while len(self._issued) > self._max_issued:
            self._issued.popitem(last=False)

    def known(self, edit_id: str) -> bool:
        return edit_id in self._issued

    def settle(self, edit_id: str, rejected: bool) -> bool:
        """An outcome for `edit_id`: forgets the id, remembers its key when rejected; False
        when the id is unknown (never issued, settled already, or forgotten)."""
        key = self._issued.pop(edit_id, None)
        if key is None:
            return False
        if rejected:
            self._rejected[key] = None
            self._rejected.move_to_end(key)
            while len(self._rejected) > self._max_rejected:
                self._rejected.popitem(last=False)
        return True

    def __call__(self, key: Key) -> bool:
        """Whether `key` was rejected."""
        return key in self._rejected
