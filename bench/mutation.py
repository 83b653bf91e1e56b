#!/usr/bin/env python3
"""On-demand mutation run (mutmut 3) over the modules where a bug loses data or leaks a secret.

Not part of CI (a full run takes minutes on 2 cores); run it after changing one of the modules
below, from the project's virtualenv with the `mutation` extra (`pip install -e ".[mutation]"`):

    python bench/mutation.py                      # every module, table + duration
    python bench/mutation.py secrets edits/diff   # modules whose path contains a word
    python bench/mutation.py --survivors          # also print each surviving mutant's diff
    python bench/mutation.py --check              # exit 1 when a module is under 90% or
                                                  # a survivor is not listed as equivalent

mutmut only finds its sources under `./`, `src/` or `source/`, so the run happens in a scratch
workspace (default ~/.cache/kimi-lsp-dev/mutation) holding `src/kimi_lsp` (`server/kimi_lsp`),
the unit tests and the fake Kimi API as committed (HEAD: commit a new test before measuring it);
the repository is never written to.
Each mutant runs only the tests (from the files listed per module below) that call the mutated
function — mutmut records which tests reach which function in a first, clean pass.

Equivalent mutants (no behaviour can tell them apart) are listed in docs/mutation.md with why; the
`EQUIVALENT` table below holds their names so `--check` does not count them as survivors.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import _mutation_data  # noqa: E402

TARGET_KILL_RATE = 0.90
MAX_EXAMPLES = 50

# module (under server/kimi_lsp) -> the fast unit tests that cover it
MODULES: dict[str, tuple[str, ...]] = {
    "secrets/patterns.py": ("test_secrets.py", "test_edits_unredact.py", "test_mut_secrets.py"),
    "secrets/checks.py": ("test_secrets.py", "test_mut_secrets.py"),
    "secrets/redact.py": (
        "test_secrets.py",
        "test_edits_unredact.py",
        "test_trust_at_rest.py",
        "test_mut_secrets.py",
    ),
    "secrets/files.py": ("test_secrets.py", "test_trust_agent_paths.py", "test_mut_secrets.py"),
    "secrets/at_rest.py": ("test_trust_at_rest.py", "test_mut_secrets.py"),
    "edits/diff.py": (
        "test_edits_diff.py",
        "test_edits_rebase.py",
        "test_edits_pending.py",
        "test_mut_diff.py",
    ),
    "edits/rebase.py": ("test_edits_rebase.py", "test_mut_diff.py"),
    "edits/pending.py": ("test_edits_pending.py", "test_mut_edits.py"),
    "edits/extract.py": ("test_edits_extract.py", "test_mut_extract.py"),
    "edits/on_disk.py": ("test_trust_edits_on_disk.py", "test_mut_edits.py"),
    "edits/validate.py": ("test_edits_validate.py", "test_mut_edits.py"),
    "edits/unredact.py": ("test_edits_unredact.py", "test_mut_edits.py"),
    "agent/confine.py": ("test_trust_agent_paths.py", "test_agent_tools.py", "test_mut_paths.py"),
    "protected_paths.py": (
        "test_trust_agent_paths.py",
        "test_trust_agent_git.py",
        "test_mut_paths.py",
    ),
    "model/assemble.py": (
        "test_model_client.py",
        "test_model_protocol.py",
        "test_model_parts.py",
        "test_mut_model.py",
    ),
    "model/sse.py": ("test_model_sse.py", "test_model_client.py", "test_mut_model.py"),
}

# modules that are data tables (mutmut leaves module-level code alone): bench/_mutation_data.py
DATA_MODULES = ("secrets/patterns.py",)

_CASELESS = (
    "no capital in the pattern's literal and both cases in its classes: it matches the "
    "lowercased text at the same places"
)

# mutant name -> why no test can kill it (kept in step with docs/mutation.md)
EQUIVALENT: dict[str, str] = {
    # model/sse.py
    "kimi_lsp.model.sse.x_event_data__mutmut_8": "a comment line's field name is empty, so it "
    "is skipped as a field that is not `data` anyway",
    "kimi_lsp.model.sse.x_chunks__mutmut_2": "done = None is false like False",
    # edits/diff.py
    "kimi_lsp.edits.diff.x_compute_hunks__mutmut_26": "the sentinel's length is never used "
    "after the last block",
    "kimi_lsp.edits.diff.x_compute_hunks__mutmut_28": "an empty gap gives no hunk (_trimmed "
    "returns None)",
    "kimi_lsp.edits.diff.x_compute_hunks__mutmut_29": "as above",
    "kimi_lsp.edits.diff.x__lines__mutmut_7": "a kept empty last line has no characters: no "
    "hunk changes",
    "kimi_lsp.edits.diff.x__unique_anchors__mutmut_41": "-2 instead of -1 ends the chain the "
    "same way (`while index >= 0`)",
    "kimi_lsp.edits.diff.x__myers__mutmut_18": "a longer `v`: the cells past 2*limit+2 are never "
    "read",
    "kimi_lsp.edits.diff.x__myers__mutmut_19": "as above",
    "kimi_lsp.edits.diff.x__myers__mutmut_32": "range(-d, d + 2, 2) is range(-d, d + 1, 2): "
    "d + 1 has the other parity",
    "kimi_lsp.edits.diff.x__myers__mutmut_76": "the last trace row is never read back "
    "(_backtrack reads rows 0..D-1)",
    "kimi_lsp.edits.diff.x__myers__mutmut_77": "as above",
    "kimi_lsp.edits.diff.x__myers__mutmut_78": "as above",
    "kimi_lsp.edits.diff.x__myers__mutmut_79": "as above",
    "kimi_lsp.edits.diff.x__myers__mutmut_80": "as above",
    "kimi_lsp.edits.diff.x__myers__mutmut_95": "one more cell at the end of a trace row: rows "
    "are read by index from their start",
    "kimi_lsp.edits.diff.x__myers__mutmut_11": "offset - 2 shifts where rows are kept; only "
    "the last step's row (never read back) runs off the start",
    "kimi_lsp.edits.diff.x__backtrack__mutmut_52": "on a diagonal x - mid_x == y - mid_y: "
    "the x bound stops the walk first either way",
    "kimi_lsp.edits.diff.x__backtrack__mutmut_54": "as above, the y bound",
    "kimi_lsp.edits.diff.x__backtrack__mutmut_56": "on a diagonal x > mid_x and y > mid_y "
    "hold together: `or` is `and`",
    "kimi_lsp.edits.diff.x__backtrack__mutmut_57": "as above (>= on one side)",
    "kimi_lsp.edits.diff.x__backtrack__mutmut_58": "as above",
    "kimi_lsp.edits.diff.x__backtrack__mutmut_70": "the first snake is on diagonal 0: x == y",
    "kimi_lsp.edits.diff.x__backtrack__mutmut_71": "as above",
    "kimi_lsp.edits.diff.x__backtrack__mutmut_73": "as above",
    "kimi_lsp.edits.diff.x__common_prefix__mutmut_9": "hi = n + 1: a[:n + 1] != b[:n + 1] "
    "already (equal texts returned before), so the search ends at the same place",
    "kimi_lsp.edits.diff.x__common_prefix__mutmut_16": "another midpoint of the same binary "
    "search: the invariant and the result stay",
    "kimi_lsp.edits.diff.x__common_suffix__mutmut_6": "`limit` is already at most both lengths",
    "kimi_lsp.edits.diff.x__common_suffix__mutmut_7": "as above",
    "kimi_lsp.edits.diff.x__common_suffix__mutmut_10": "a broken fast path: the binary search "
    "finds the same length",
    "kimi_lsp.edits.diff.x__common_suffix__mutmut_12": "as above",
    "kimi_lsp.edits.diff.x__common_suffix__mutmut_18": "another midpoint of the same binary search",
    "kimi_lsp.edits.diff.x__match_lines__mutmut_48": "a gap with one empty side finds no "
    "anchor and no common line anyway",
    "kimi_lsp.edits.diff.x__match_lines__mutmut_68": "the first anchor becomes a one-line block "
    "that the next, overlapping block covers (compute_hunks skips it)",
    "kimi_lsp.edits.diff.x__match_lines__mutmut_71": "runs of consecutive anchors are cut into "
    "shorter blocks: the same lines match",
    "kimi_lsp.edits.diff.x__match_lines__mutmut_73": "as above",
    "kimi_lsp.edits.diff.x__match_lines__mutmut_74": "as above",
    "kimi_lsp.edits.diff.x__match_lines__mutmut_77": "the anchors after the first run are "
    "found again when the gap pushed after it is split",
    # edits/extract.py
    "kimi_lsp.edits.extract.x__blocks__mutmut_9": "rstrip(None) on an opening line: "
    "the extra trailing whitespace only ends up in the info string, whose first word and "
    "backtick test stay the same",
    "kimi_lsp.edits.extract.x__blocks__mutmut_19": "a fence is one character repeated (3 or "
    "more): fence[1] == fence[0]",
    "kimi_lsp.edits.extract.x__blocks__mutmut_37": "as above",
    "kimi_lsp.edits.extract.x__blocks__mutmut_59": "as above",
    "kimi_lsp.edits.extract.x__blocks__mutmut_49": "an unclosed block's last line is the "
    "last of split_lines, which never ends with a break: the test is always true there",
    "kimi_lsp.edits.extract.x__blocks__mutmut_50": "as above",
    "kimi_lsp.edits.extract.x__join_prefix__mutmut_8": 'rsplit("\\n")[-1] is the last line '
    'like rsplit("\\n", 1)[-1]',
    "kimi_lsp.edits.extract.x__join_prefix__mutmut_11": 'rsplit("\\n", 2)[-1]: as above',
    "kimi_lsp.edits.extract.x__names__mutmut_6": '"" is a prefix of every string: the '
    "startswith tests already cover an empty info or language",
    "kimi_lsp.edits.extract.x__reindent__mutmut_22": "only_first = None is false like False",
    # edits/pending.py
    "kimi_lsp.edits.pending.xǁPendingEditsǁ_forget__mutmut_1": "an id is never live and gone at "
    "once (add clears its reason), so a forgotten id is never already in `_gone`",
    "kimi_lsp.edits.pending.xǁPendingEditsǁ_forget__mutmut_6": "popitem(last=None): None is "
    "false, the same as last=False",
    # edits/validate.py
    "kimi_lsp.edits.validate.x__python_error__mutmut_10": "dont_inherit left out: this module's "
    "only __future__ import (annotations) changes no syntax",
    "kimi_lsp.edits.validate.x__python_error__mutmut_15": "dont_inherit=False: as above",
    "kimi_lsp.edits.validate.x__python_error__mutmut_11": "the file name is not in the message",
    "kimi_lsp.edits.validate.x__python_error__mutmut_12": "the file name is not in the message",
    "kimi_lsp.edits.validate.x_python_breaks__mutmut_8": "compile()'s SyntaxError always has a "
    "line number (>= 1)",
    "kimi_lsp.edits.validate.x_python_breaks__mutmut_9": "as above: the no-line branch is "
    "unreachable",
    "kimi_lsp.edits.validate.x_python_breaks__mutmut_12": "the parser's messages are never "
    "empty: the fallback text is unreachable",
    "kimi_lsp.edits.validate.x_python_breaks__mutmut_13": "as above",
    "kimi_lsp.edits.validate.x_python_breaks__mutmut_14": "the ValueError branch is for NUL "
    "bytes on early 3.11 releases; 3.11.7 (the dev venv) raises SyntaxError: unreachable here",
    "kimi_lsp.edits.validate.x_python_breaks__mutmut_15": "as above",
    "kimi_lsp.edits.validate.x_python_breaks__mutmut_16": "as above",
    # protected_paths.py
    "kimi_lsp.protected_paths.x_plain_name__mutmut_5": 'split(":") and split(":", 1) have the '
    "same first part",
    "kimi_lsp.protected_paths.x_plain_name__mutmut_8": 'split(":", 2): the same first part',
    "kimi_lsp.protected_paths.x_plain_name__mutmut_22": "after casefold() no 'X' is left to strip",
    "kimi_lsp.protected_paths.x_git_reason__mutmut_10": "continue -> break: the path is "
    "lexically under the root (the contract), so the first candidate never lacks a rel",
    "kimi_lsp.protected_paths.x_config_kind__mutmut_36": "str.split never returns an empty list",
    "kimi_lsp.protected_paths.x__rel__mutmut_2": "the root itself: 'XXXX' is no git name and no "
    "config name either; callers pass files, never the root",
    # secrets/files.py
    "kimi_lsp.secrets.files.x_secret_file_reason__mutmut_17": "the parent only matters for "
    "(.kube, config) and (.docker, config.json): a slash at 0 or none gives no such parent",
    "kimi_lsp.secrets.files.x_secret_file_reason__mutmut_19": "as above (slash at 0)",
    "kimi_lsp.secrets.files.x_secret_file_reason__mutmut_20": "as above (slash at 1: a "
    "one-character parent)",
    "kimi_lsp.secrets.files.x_secret_file_reason__mutmut_21": "as above ('XXXX' is no such parent)",
    "kimi_lsp.secrets.files.x__file_kind__mutmut_45": 'rsplit("/")[-1] == rsplit("/", 1)[-1]',
    "kimi_lsp.secrets.files.x__file_kind__mutmut_48": 'rsplit("/", 2)[-1] == rsplit("/", 1)[-1]',
    "kimi_lsp.secrets.checks.x_pem_spans__mutmut_20": "a BEGIN inside a block then makes an "
    "overlapping span, which redact() skips like the original's skip",
    "kimi_lsp.secrets.checks.x_assigned__mutmut_4": "searching the whole prefix finds the same "
    "nearest marker (every earlier marker is closed by its ']')",
    "kimi_lsp.secrets.checks.x_assigned__mutmut_30": "`nxt` is read at [:1] and [1:2] only",
    "kimi_lsp.secrets.checks.x_assigned__mutmut_41": "`nxt` has 2 bytes: [1:3] is [1:2]",
    "kimi_lsp.secrets.checks.x_assigned__mutmut_58": "a value never starts at offset 0 (a name "
    "and an operator precede it)",
    "kimi_lsp.secrets.checks.x_assigned__mutmut_59": "as above",
    "kimi_lsp.secrets.checks.x_assigned__mutmut_71": "as above",
    "kimi_lsp.secrets.checks.x_assigned__mutmut_72": "as above",
    "kimi_lsp.secrets.checks.x_assigned__mutmut_103": "priority: as for url_password__mutmut_20",
    "kimi_lsp.secrets.redact.x__spans__mutmut_56": "every locator checks its family's lead with "
    "a lookbehind, so the lead test here never fails",
    "kimi_lsp.secrets.redact.x__spans__mutmut_57": "as above",
    "kimi_lsp.secrets.redact.x__spans__mutmut_86": "pem_spans on a text without PRIVATE KEY "
    "finds nothing (the flag only saves the scan)",
    # secrets/redact.py
    "kimi_lsp.secrets.redact.x__spans__mutmut_5": "pem = None is false like False",
    "kimi_lsp.secrets.redact.x__spans__mutmut_6": "pem_spans on a text without PRIVATE KEY "
    "finds nothing (the flag only saves the scan)",
    "kimi_lsp.secrets.redact.x__spans__mutmut_23": "as above: a wrong flag only costs a scan",
    "kimi_lsp.secrets.redact.x__spans__mutmut_24": "a BEGIN marker puts PRIVATE KEY at 11 or "
    "later, never at 0",
    "kimi_lsp.secrets.redact.x__spans__mutmut_25": "as above",
    "kimi_lsp.secrets.redact.x__spans__mutmut_32": "the PEM entry is the last of its locator: "
    "break and continue both end the loop",
    "kimi_lsp.secrets.redact.x__spans__mutmut_73": "no pattern's literal recurs one byte later, "
    "and the locator never revisits an anchor except the two places of one family (a repeat)",
    "kimi_lsp.secrets.redact.x__spans__mutmut_74": "as above",
    "kimi_lsp.secrets.redact.x_redact__mutmut_48": "'UTF-8' and 'utf-8' name the same codec",
    "kimi_lsp.secrets.redact.x_redact__mutmut_77": "as above",
    "kimi_lsp.secrets.redact.x_redact__mutmut_94": "as above",
    "kimi_lsp.secrets.redact.xǁRedactorǁ__call____mutmut_3": "an empty key is dropped by "
    "`if key` on the next line anyway",
    "kimi_lsp.secrets.redact.xǁRedactorǁ__call____mutmut_5": "redact() itself ignores extra "
    "strings under MIN_EXTRA_LENGTH",
    # secrets/patterns.py (data mutants, bench/_mutation_data.py)
    "data:flag@39:9:False->True": _CASELESS,
    "data:flag@43:56:False->True": _CASELESS,
    "data:flag@46:9:False->True": _CASELESS,
    "data:flag@50:47:False->True": _CASELESS,
    "data:flag@52:42:False->True": _CASELESS,
    "data:flag@53:50:False->True": _CASELESS,
    "data:flag@54:45:False->True": _CASELESS,
    "data:flag@56:59:False->True": _CASELESS,
    "data:flag@63:66:False->True": _CASELESS,
    "data:flag@150:12:True->False": "Slack tokens are lowercase: the original text finds "
    "them where the lowercased one does",
    "data:flag@151:12:True->False": "the URL locator `://` has no letter",
    "data:bound@24:41:1->2": "a one-character value is under every minimum length (8)",
    "data:bound@24:79:1->2": "a one-character value is under every minimum length (8)",
    "data:bound@25:26:1->2": "a one-character value is under every minimum length (8)",
    "data:bound@25:64:1->2": "a one-character value is under every minimum length (8)",
    # secrets/checks.py (see also the import-time note in docs/mutation.md)
    "kimi_lsp.secrets.checks.x_sk_key__mutmut_8": "'X' before `sk-` is alphanumeric: the first "
    "test already refuses it",
    "kimi_lsp.secrets.checks.x_sk_key__mutmut_19": "priority: as for url_password__mutmut_20",
    "kimi_lsp.secrets.checks.x_stripe_key__mutmut_5": "priority: as for url_password__mutmut_20",
    "kimi_lsp.secrets.checks.x_pem_spans__mutmut_4": "searching for END markers that the cheap "
    "test says are absent finds none",
    "kimi_lsp.secrets.checks.x_pem_spans__mutmut_9": "the initial `material` is never read: "
    "`searched_from` starts past every `after`",
    "kimi_lsp.secrets.checks.x_pem_spans__mutmut_10": "as above",
    "kimi_lsp.secrets.checks.x_pem_spans__mutmut_11": "as above",
    "kimi_lsp.secrets.checks.x_pem_spans__mutmut_13": "as above: with material -1 the cached "
    "range is empty whatever `searched_from` is",
    "kimi_lsp.secrets.checks.x_pem_spans__mutmut_14": "as above",
    "kimi_lsp.secrets.checks.x_pem_spans__mutmut_34": "priority 0 or 1: no other family's span "
    "starts at a -----BEGIN marker",
    "kimi_lsp.secrets.checks.x_pem_spans__mutmut_53": "as above",
    "kimi_lsp.secrets.checks.x_pem_spans__mutmut_37": "after a BEGIN without END no later BEGIN "
    "has one either: their spans all run to the end and are skipped",
    "kimi_lsp.secrets.checks.x_pem_spans__mutmut_39": "two BEGIN markers never share an `after`",
    "kimi_lsp.secrets.checks.x_pem_spans__mutmut_40": "a cache miss searches again and finds the "
    "same material",
    "kimi_lsp.secrets.checks.x_pem_spans__mutmut_49": "key material never starts at the '-' of "
    "an END marker",
    "kimi_lsp.secrets.checks.x_url_password__mutmut_20": "the priority orders only spans with "
    "the same ends; a URL password can only coincide with a token family earlier in PASSES, "
    "which wins at priority 1 or 2 alike",
    "kimi_lsp.secrets.checks.x_bearer__mutmut_16": "as above for a bearer value",
}

_KILLED = {1, 3, 37}
_TIMEOUT = {36, -24, 24, 152, 255}


@dataclass
class Tally:
    """Outcome counts of one module's mutants."""

    total: int = 0
    killed: int = 0
    timeout: int = 0
    equivalent: int = 0
    no_tests: int = 0
    survivors: list[str] = field(default_factory=list)

    @property
    def kill_rate(self) -> float:
        # a timeout is a kill (the mutant hung a test); an equivalent mutant is out of the count
        counted = self.total - self.equivalent
        return (self.killed + self.timeout) / counted if counted else 1.0


def _export(work: Path, *paths: str) -> None:
    """`paths` as committed (HEAD) into `work`: a run measures the code and tests in git, not
    whatever another edit has half-changed in the working tree meanwhile."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD", *paths],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(work, filter="data")


def _copy_tests(work: Path) -> None:
    """The unit tests and the fake API into the scratch tree (replacing an older copy)."""
    for part in ("unit", "fake_kimi"):
        if (work / "tests" / part).exists():
            shutil.rmtree(work / "tests" / part)
    _export(work, "tests/__init__.py", "tests/unit", "tests/fake_kimi")
    # Every mutant reruns the property tests: at most MAX_EXAMPLES examples each here (CI
    # runs the full counts), or the run takes hours on 2 cores.
    for test in (work / "tests" / "unit").glob("test_*.py"):
        text = test.read_text(encoding="utf-8")
        capped = re.sub(
            r"max_examples=(\d+)", lambda m: f"max_examples={min(int(m[1]), MAX_EXAMPLES)}", text
        )
        if capped != text:
            test.write_text(capped, encoding="utf-8")


def _workspace(work: Path, modules: list[str]) -> None:
    """A fresh scratch tree mutmut can read: src/kimi_lsp, the unit tests, a pyproject."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    _export(work, "server/kimi_lsp")
    (work / "src").mkdir()
    (work / "server" / "kimi_lsp").rename(work / "src" / "kimi_lsp")
    (work / "server").rmdir()
    _copy_tests(work)
    tests = sorted({f"tests/unit/{t}" for m in modules for t in MODULES[m]})
    only = [f"src/kimi_lsp/{m}" for m in modules]
    (work / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        'asyncio_mode = "auto"\n'
        'asyncio_default_fixture_loop_scope = "function"\n'
        'pythonpath = ["."]\n\n'
        "[tool.mutmut]\n"
        'source_paths = ["src/kimi_lsp"]\n'
        f"only_mutate = {json.dumps(only)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]\n'
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
        "timeout_multiplier = 10.0\n"
        "timeout_constant = 5.0\n"
        "use_git_change_detection = false\n",
        encoding="utf-8",
    )


def _tally(work: Path, modules: list[str], data: dict[str, dict[str, int]]) -> dict[str, Tally]:
    """Read mutmut's per-file results (`<file>.meta`) and the data mutants' exit codes into
    one tally per module."""
    tallies: dict[str, Tally] = {}
    for module in modules:
        meta = work / "mutants" / "src" / "kimi_lsp" / f"{module}.meta"
        tally = Tally()
        codes = (
            json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
            if meta.exists()
            else {}
        )
        codes |= data.get(module, {})
        for name, code in sorted(codes.items()):
            tally.total += 1
            if name in EQUIVALENT:
                tally.equivalent += 1
            elif code in _KILLED:
                tally.killed += 1
            elif code in _TIMEOUT:
                tally.timeout += 1
            elif code in (5, 33):
                tally.no_tests += 1
                tally.survivors.append(name)
            elif code == 0 or code is None:
                tally.survivors.append(name)
            elif name.startswith("data:"):  # pytest failed (2: the module no longer imports)
                tally.killed += 1
            else:  # suspicious, skipped, segfault: not a kill
                tally.survivors.append(name)
        tallies[module] = tally
    return tallies


def _recheck(work: Path, mutmut: str, tallies: dict[str, Tally]) -> list[str]:
    """Run each survivor again in a fresh process, the mutant applied to the source.

    mutmut forks its workers after importing the code, so a mutant in a function that runs
    only at import (the secret checks built into the pattern tables) is never switched on
    there; a fresh import sees it. With `--recheck` this also tries the survivors against
    tests written since. Survivors killed here count as killed; their names are returned."""
    killed: list[str] = []
    for module, tally in tallies.items():
        if not tally.survivors:
            continue
        path = work / "src" / "kimi_lsp" / module
        original = path.read_text(encoding="utf-8")
        data = {m.name: m for m in _mutation_data.mutants(original)}
        tests = [f"tests/unit/{t}" for t in MODULES[module]]
        try:
            for name in list(tally.survivors):
                if name in data:
                    path.write_text(data[name].apply(original), encoding="utf-8")
                else:
                    subprocess.run(
                        [mutmut, "apply", name], cwd=work, capture_output=True, check=True
                    )
                if _mutation_data.pytest_in(work, tests) != 0:
                    tally.survivors.remove(name)
                    tally.killed += 1
                    killed.append(name)
                path.write_text(original, encoding="utf-8")
        finally:
            path.write_text(original, encoding="utf-8")
    return killed


def _table(tallies: dict[str, Tally]) -> str:
    head = f"{'module':<22} {'mutants':>7} {'killed':>7} {'timeout':>7} {'equiv':>6} "
    head += f"{'survived':>8} {'kill rate':>9}"
    lines = [head, "-" * len(head)]
    for module, t in tallies.items():
        lines.append(
            f"{module:<22} {t.total:>7} {t.killed:>7} {t.timeout:>7} {t.equivalent:>6} "
            f"{len(t.survivors):>8} {t.kill_rate:>9.1%}"
        )
    return "\n".join(lines)


def _mutate(
    work: Path, mutmut: str, modules: list[str], jobs: int, with_data: bool
) -> dict[str, dict[str, int]] | None:
    """mutmut over `modules`, then the data mutants; their exit codes by module (None when
    mutmut failed)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(
        [mutmut, "run", "--max-children", str(jobs)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        print(run.stdout[-4000:], run.stderr[-4000:], sep="\n", file=sys.stderr)
        return None
    return {
        module: _mutation_data.run(work, module, [f"tests/unit/{t}" for t in MODULES[module]])
        for module in modules
        if module in DATA_MODULES and with_data
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="run the modules whose path contains one of these")
    parser.add_argument(
        "--workdir", type=Path, default=Path.home() / ".cache/kimi-lsp-dev/mutation"
    )
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at the same time")
    parser.add_argument("--survivors", action="store_true", help="print each survivor's diff")
    parser.add_argument("--check", action="store_true", help="exit 1 below target")
    parser.add_argument("--no-data", action="store_true", help="skip the data-table mutants")
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="rerun the last run's survivors against the tests now",
    )
    args = parser.parse_args()
    modules = [m for m in MODULES if not args.only or any(w in m for w in args.only)]
    if not modules:
        parser.error(f"no module matches {args.only}; modules: {', '.join(MODULES)}")
    mutmut = shutil.which("mutmut")
    if mutmut is None:
        print('mutmut is not installed: pip install -e ".[mutation]"', file=sys.stderr)
        return 2
    started = time.monotonic()
    if args.recheck:  # the last run's results, survivors tried again with the tests as they are
        _copy_tests(args.workdir)
        saved = args.workdir / "data.json"
        data = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else {}
    else:
        _workspace(args.workdir, modules)
        data = _mutate(args.workdir, mutmut, modules, args.jobs, not args.no_data)
        if data is None:
            return 1
        (args.workdir / "data.json").write_text(json.dumps(data), encoding="utf-8")
    tallies = _tally(args.workdir, modules, data)
    fresh = _recheck(args.workdir, mutmut, tallies)
    duration = time.monotonic() - started
    print(_table(tallies))
    print(f"\nrun took {duration:.0f} s with {args.jobs} jobs ({len(modules)} modules)")
    for name in fresh:
        print(f"killed when run again in a fresh process: {name}")
    survivors = [name for t in tallies.values() for name in t.survivors]
    for name in survivors:
        print(f"survived: {name}")
        if args.survivors and not name.startswith("data:"):
            shown = subprocess.run(
                [mutmut, "show", name],
                cwd=args.workdir,
                capture_output=True,
                text=True,
                check=False,
            )
            print(shown.stdout)
    if args.check:
        low = [m for m, t in tallies.items() if t.kill_rate < TARGET_KILL_RATE]
        return 1 if low or survivors else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
