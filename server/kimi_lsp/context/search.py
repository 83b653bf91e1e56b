"""Files that share rare identifiers with a piece of code: the terms indexed, an in-memory BM25."""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Collection, Iterable

from ..secrets.redact import redact

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
# Identifiers long enough to be a key (the shortest token formats secrets/ knows are 16+).

# Keywords of the languages we read and words so common in code that they say nothing about
# which file is related. Identifiers are compared whole and case-sensitively: a rare name like
# `parse_header_params` is the signal, its parts `parse` and `header` are not.
_STOP_WORDS = """
    and
    as assert async await break class continue def del elif else except false finally for from
    global import lambda none nonlocal not pass raise return true try while with yield self cls
    None True False print len str int float bool list dict set tuple type object range isinstance
    super __init__ __name__ __main__ kwargs args
    var let const function new this typeof instanceof delete void null undefined export default
    extends implements interface enum switch case catch throw static public private protected
    readonly string number boolean any unknown never async await require module exports console
    package func struct map chan defer select fallthrough goto nil error make append
    pub mut impl trait use crate mod where loop match move ref unsafe extern dyn Self Some Ok Err
    Box Vec Option Result String usize isize u32 u64 i32 i64 f32 f64 u8
    local then end elseif repeat until
    the for are was were has have had not but you your can will would should could this that
    these those with from into its when what which who how all any each other some such only
    than then also just more most very get set
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())
_STOP_BYTES = frozenset(word.encode() for word in STOP_WORDS)
_WORD_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
_WORD_BYTES = bytes(c if c in _WORD_CHARS else 32 for c in range(256))  # the rest: spaces


def identifiers(text: str) -> Counter[str]:
    """Identifier-like words of three or more characters and how often each occurs."""
    counts = Counter(_IDENTIFIER.findall(text))
    for word in STOP_WORDS & counts.keys():
        del counts[word]
    return counts


def index_terms(text: str) -> str:
    """The file's distinct identifiers, space-separated, as the search index stores them.

    Each identifier once (a file either uses a rare name or not; counting would cost a Counter
    per file), no stop words, and no word of a string secrets/ redacts in the file: the index
    lives on disk and must not become a copy of the keys a file holds. The whole text is
    redacted, not the words alone: a password or a PEM body is a secret by its context
    (`password = "..."`, the BEGIN line), which a word on its own has lost. Split with
    bytes.translate, about twice as fast as the identifier regex over a whole workspace (a word
    after leading digits, like `1st_try`, is skipped here where the regex took `st_try`)."""
    data = text.encode("utf-8", "surrogatepass").translate(_WORD_BYTES)
    words = {w for w in set(data.split()) if len(w) > 2 and w[0] > 57}  # not 0-9
    words -= _STOP_BYTES
    found = redact(text)
    if found.count:
        values = [v.encode("utf-8", "surrogatepass") for vs in found.values.values() for v in vs]
        words = {w for w in words if not any(w in value for value in values)}
    return b" ".join(words).decode("ascii")


class IdentifierIndex:
    """BM25 over identifiers, one document per file, updated one file at a time.

    Indexing keeps each file's identifier counts and the document frequencies; the posting list
    of an identifier is built when a query first needs it and cached until a file containing it
    changes. `rank` scores only the query's rarest identifiers (at most `max_terms`), so it
    costs a few milliseconds however large the workspace.
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75, max_terms: int = 48) -> None:
        self.k1, self.b, self.max_terms = k1, b, max_terms
        self._ids: dict[str, int] = {}
        self._rels: dict[int, str] = {}
        self._counts: dict[int, Counter[str]] = {}
        self._lengths: dict[int, int] = {}
        self._df: Counter[str] = Counter()
        self._postings: dict[str, list[tuple[int, int]]] = {}
        self._total = 0
        self._next = 0

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, rel: object) -> bool:
        return rel in self._ids

    def update(self, rel: str, text: str) -> None:
        self.remove(rel)
        counts = identifiers(text)
        doc = self._next
        self._next += 1
        self._ids[rel], self._rels[doc], self._counts[doc] = doc, rel, counts
        self._lengths[doc] = length = sum(counts.values())
        self._total += length
        self._df.update(counts.keys())
        self._forget(counts)

    def remove(self, rel: str) -> None:
        doc = self._ids.pop(rel, None)
        if doc is None:
            return
        del self._rels[doc]
        counts = self._counts.pop(doc)
        self._total -= self._lengths.pop(doc)
        self._df.subtract(counts.keys())
        for term in [t for t in counts if self._df[t] <= 0]:
            del self._df[term]
        self._forget(counts)

    def _forget(self, counts: Counter[str]) -> None:
        if self._postings:
            for term in self._postings.keys() & counts.keys():
                del self._postings[term]

    def document_frequency(self, term: str) -> int:
        return self._df.get(term, 0)

    def rank(
        self, query_text: str, limit: int, exclude: Collection[str] = ()
    ) -> list[tuple[str, float]]:
        """Files most related to `query_text`, best first: (rel, score), ties by rel."""
        return self.rank_terms(identifiers(query_text), limit, exclude)

    def rank_terms(
        self, terms: Iterable[str], limit: int, exclude: Collection[str] = ()
    ) -> list[tuple[str, float]]:
        documents = len(self._ids)
        if limit <= 0 or not documents:
            return []
        df = self._df
        rare = sorted((df[t], t) for t in set(terms) if t in df)[: self.max_terms]
        average = self._total / documents or 1.0
        k1, b, lengths = self.k1, self.b, self._lengths
        self._fill(term for _, term in rare)
        scores: dict[int, float] = {}
        for frequency, term in rare:
            idf = math.log(1.0 + (documents - frequency + 0.5) / (frequency + 0.5))
            for doc, count in self._postings[term]:
                norm = count + k1 * (1.0 - b + b * lengths[doc] / average)
                scores[doc] = scores.get(doc, 0.0) + idf * count * (k1 + 1.0) / norm
        excluded = {self._ids[r] for r in exclude if r in self._ids}
        ranked = ((self._rels[d], s) for d, s in scores.items() if d not in excluded)
        return heapq.nsmallest(limit, ranked, key=lambda item: (-item[1], item[0]))

    def _fill(self, terms: Iterable[str]) -> None:
        """Build the missing posting lists in one pass over the documents."""
        missing = {t for t in terms if t not in self._postings}
        if not missing:
            return
        if len(self._postings) > 100_000:
            self._postings.clear()
        fresh: dict[str, list[tuple[int, int]]] = {t: [] for t in missing}
        for doc, counts in self._counts.items():
            for term in counts.keys() & missing:
                fresh[term].append((doc, counts[term]))
        self._postings.update(fresh)
