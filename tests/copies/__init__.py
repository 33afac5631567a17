"""The copies the services keep of the monolith's code, diffed against the list of their allowed differences.

Each deployable stands alone, so a context that leaves the monolith takes a copy of its code
(and of the monolith's core/) rather than importing it. PAIRS says which folders are copies of
which; every file found under both roots of a pair, by the same relative path, is diffed with
difflib after three normalisations: the monolith's dotted names are rewritten to the service's
(`monolith.catalog` -> `catalog_service.catalog`, ...), both sides are tidied by Ruff alike
(imports sorted, formatted: a longer name must not make a difference of layout), and module
docstrings are left out (each copy says what it is where it lives). What remains must be exactly
the differences listed in extracted/COPIES.md (LIST), each with a line saying why:
tests/unit/test_copies.py fails on a difference the list does not have and on a listed one that
is gone.

    .venv/bin/python -m tests.copies            # what does not match the list, if anything
    .venv/bin/python -m tests.copies --print    # the list as the tree has it now: keeps each why
                                                # that still applies, TODO for a new difference
"""

import ast
import difflib
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIST = REPO / "extracted" / "COPIES.md"
NOT_A_COPY = "not a copy"
TODO = "TODO: why?"


@dataclass(frozen=True)
class Pair:
    """A folder (or file) of the monolith's and the service's copy of it, and the names that differ between them."""

    name: str
    monolith: str
    service: str
    rewrites: tuple[tuple[str, str], ...]


def _catalog(*pairs):
    return (("monolith.catalog", "catalog_service.catalog"), ("monolith.core", "catalog_service.core"), *pairs)


def _payments(*pairs):
    return (("monolith.payments", "payments_service.payments"), ("monolith.core", "payments_service.core"), *pairs)


# The monolith's tests import their shared fixtures' module as tests.conftest; a service's tests,
# whose folder is not a package, as conftest.
CATALOG_TESTS = _catalog(("tests.conftest", "conftest"))
PAYMENTS_TESTS = _payments(("tests.conftest", "conftest"))

PAIRS = (
    Pair("catalog", "monolith/catalog", "extracted/catalog/catalog_service/catalog", _catalog()),
    Pair("catalog core", "monolith/core", "extracted/catalog/catalog_service/core", _catalog()),
    Pair(
        "catalog gunicorn",
        "shopctl/gunicorn_config.py",
        "extracted/catalog/catalog_service/gunicorn_config.py",
        _catalog(),
    ),
    Pair("catalog tests", "tests", "extracted/catalog/tests", CATALOG_TESTS),
    Pair("catalog integration tests", "tests/integration", "extracted/catalog/tests", CATALOG_TESTS),
    Pair("catalog unit tests", "tests/unit", "extracted/catalog/tests", CATALOG_TESTS),
    Pair("payments", "monolith/payments", "extracted/payments/payments_service/payments", _payments()),
    Pair("payments core", "monolith/core", "extracted/payments/payments_service/core", _payments()),
    Pair(
        "payments gunicorn",
        "shopctl/gunicorn_config.py",
        "extracted/payments/payments_service/gunicorn_config.py",
        _payments(),
    ),
    Pair("payments tests", "tests", "extracted/payments/tests", PAYMENTS_TESTS),
    Pair("payments integration tests", "tests/integration", "extracted/payments/tests", PAYMENTS_TESTS),
    Pair("payments unit tests", "tests/unit", "extracted/payments/tests", PAYMENTS_TESTS),
)
SKIPPED = ("__pycache__", ".pytest_cache")


def copied_files(pair, *, root=REPO):
    """The relative paths found under both roots of `pair` (the file's own name when the roots are files)."""
    monolith, service = root / pair.monolith, root / pair.service
    if monolith.is_file() and service.is_file():
        return [monolith.name]
    return sorted(set(_files(monolith)) & set(_files(service)))


def _files(root):
    if not root.is_dir():
        return []
    return [
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and not path.name.endswith(".pyc") and not set(path.relative_to(root).parts) & set(SKIPPED)
    ]


def _path(root, folder, relative):
    folder = root / folder
    return folder if folder.is_file() else folder / relative


def rewritten(text, rewrites):
    """`text` with each dotted name of the monolith's in `rewrites` changed to the service's."""
    for old, new in rewrites:
        text = re.sub(rf"\b{re.escape(old)}\b", new, text)
    return text


def tidied(sources, *, first_party):
    """Python `sources` ({key: text}) as Ruff leaves them, imports sorted and formatted, in one run.

    A rewritten name is longer or shorter than the monolith's, so a line of the copy may wrap (or
    its import sort) where the original's does not: tidying both sides alike compares code, not
    layout. The repository's line length and Python version apply; every package named in a
    rewrite is first-party, as each project's own Ruff settings make them.
    """
    settings = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["ruff"]
    with tempfile.TemporaryDirectory(prefix="copies-") as scratch:
        folder = Path(scratch)
        config = folder / "ruff.toml"
        config.write_text(
            f"line-length = {settings['line-length']}\ntarget-version = {json.dumps(settings['target-version'])}\n"
            f"[lint.isort]\nknown-first-party = {json.dumps(sorted(first_party))}\n"
        )
        files = {key: folder / f"file{number}.py" for number, key in enumerate(sources)}
        for key, file in files.items():
            file.write_text(sources[key])
        for command in (["check", "--select", "I", "--fix", "--exit-zero"], ["format"]):
            subprocess.run(
                [sys.executable, "-m", "ruff", *command, "--quiet", "--config", str(config), str(folder)],
                check=True,
                capture_output=True,
                text=True,
            )
        return {key: file.read_text() for key, file in files.items()}


def without_docstring(text):
    """The lines of `text` that are compared: all but its module docstring, each copy's own."""
    lines = [line.rstrip() for line in text.splitlines()]
    try:
        module = ast.parse(text)
    except SyntaxError:
        return lines
    first = module.body[0] if module.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return lines[first.end_lineno :]
    return lines


def differences(pairs=PAIRS, *, root=REPO):
    """{(pair name, path): hunks} for every file copied, a hunk being the '-' and '+' lines of one place."""
    sides = {
        (pair.name, path): (
            rewritten(_path(root, pair.monolith, path).read_text(), pair.rewrites),
            _path(root, pair.service, path).read_text(),
        )
        for pair in pairs
        for path in copied_files(pair, root=root)
    }
    python = {
        (key, side): text for key, texts in sides.items() if key[1].endswith(".py") for side, text in enumerate(texts)
    }
    first_party = {name.split(".")[0] for pair in pairs for rewrite in pair.rewrites for name in rewrite}
    tidy = tidied(python, first_party=first_party) if python else {}
    found = {}
    for key, texts in sides.items():
        left, right = (without_docstring(tidy.get((key, side), text)) for side, text in enumerate(texts))
        matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
        found[key] = [
            tuple([f"-{line}" for line in left[i1:i2]] + [f"+{line}" for line in right[j1:j2]])
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
            if tag != "equal"
        ]
    return found


@dataclass
class Entry:
    """One allowed difference: why, and the hunks it allows (none for a file that is not a copy)."""

    why: str
    hunks: list[tuple[str, ...]] = field(default_factory=list)
    not_a_copy: bool = False


PAIR_HEADING = re.compile(r"^## (?P<name>[^:`]+): `")
FILE_HEADING = re.compile(r"^### `(?P<path>[^`]+)`(?P<not_a_copy>: " + NOT_A_COPY + r")?\s*$")


def parse(text, *, pairs=PAIRS):
    """The list's entries by (pair name, relative path), in their order; ValueError for what it cannot read."""
    names = {pair.name for pair in pairs}
    entries, pair, path, why, in_diff = {}, None, None, [], None
    for number, line in enumerate(text.splitlines(), 1):
        if in_diff is not None:
            if line.strip() == "```":
                entries.setdefault((pair, path), []).append(Entry(" ".join(why), _split_hunks(in_diff)))
                why, in_diff = [], None
            else:
                in_diff.append(line.rstrip())
        elif match := PAIR_HEADING.match(line):
            _close_not_a_copy(entries, pair, path, why)
            pair, path, why = match["name"], None, []
            if pair not in names:
                raise ValueError(f"line {number}: no pair named {pair!r} in tests/copies PAIRS")
        elif match := FILE_HEADING.match(line):
            _close_not_a_copy(entries, pair, path, why)
            path, why = match["path"], []
            if pair is None:
                raise ValueError(f"line {number}: a file heading before any pair heading")
            if match["not_a_copy"]:
                entries.setdefault((pair, path), []).append(Entry("", not_a_copy=True))
        elif line.startswith("```diff"):
            if path is None:
                raise ValueError(f"line {number}: a diff before any file heading")
            in_diff = []
        elif line.startswith("#"):
            _close_not_a_copy(entries, pair, path, why)
            path, why = None, []
        elif path is not None and line.strip():
            why.append(line.strip())
    if in_diff is not None:
        raise ValueError("the last diff block is not closed")
    _close_not_a_copy(entries, pair, path, why)
    return entries


def _close_not_a_copy(entries, pair, path, why):
    listed = entries.get((pair, path))
    if listed and listed[-1].not_a_copy and not listed[-1].why:
        listed[-1].why = " ".join(why)


def _split_hunks(lines):
    split, current = [], []
    for line in lines:
        if line.startswith("@@"):
            if current:
                split.append(tuple(current))
            current = []
        else:
            current.append(line)
    if current:
        split.append(tuple(current))
    return split


@dataclass
class Check:
    """What the tree has against what the list says, file by file."""

    unlisted: dict = field(default_factory=dict)  # (pair, path) -> hunks no entry allows
    gone: list = field(default_factory=list)  # (pair, path, entry, hunks of it the tree no longer has)
    kept: dict = field(default_factory=dict)  # (pair, path) -> entries as they still apply
    unexplained: list = field(default_factory=list)  # (pair, path) of entries without a why

    @property
    def problems(self):
        lines = []
        for (pair, path), found in self.unlisted.items():
            lines.append(
                f"{pair}: {path}: {len(found)} difference(s) not in extracted/COPIES.md:\n"
                + "\n@@\n".join("\n".join(hunk) for hunk in found)
            )
        for pair, path, entry, missing in self.gone:
            what = "is no longer a file on both sides" if entry.not_a_copy else "no longer differs as listed"
            lines.append(
                f"{pair}: {path}: the listed difference ({entry.why or 'no why'}) {what}"
                + ("" if entry.not_a_copy else ":\n" + "\n@@\n".join("\n".join(hunk) for hunk in missing))
            )
        for pair, path in self.unexplained:
            lines.append(f"{pair}: {path}: a listed difference says no why (one line above its diff).")
        return lines


def check(entries, *, pairs=PAIRS, root=REPO):
    """Compare the copies under `root` with the list's `entries` (from parse())."""
    result = Check()
    found = differences(pairs, root=root)
    order = [pair.name for pair in pairs]
    for key in sorted(found.keys() | entries.keys(), key=lambda key: (order.index(key[0]), key[1])):
        name, path = key
        listed = entries.get(key, [])
        if key not in found:
            result.gone.extend((name, path, entry, entry.hunks) for entry in listed)
            continue
        remaining = list(found[key])
        kept, changed = [], []
        for entry in listed:
            if not entry.why or entry.why.startswith("TODO"):
                result.unexplained.append(key)
            if entry.not_a_copy:
                kept.append(entry)
                remaining = []
                continue
            present, missing = [], []
            for hunk in entry.hunks:
                if hunk in remaining:
                    remaining.remove(hunk)
                    present.append(hunk)
                else:
                    missing.append(hunk)
            kept.append(Entry(entry.why, present))
            if missing:
                result.gone.append((name, path, entry, missing))
                changed.append((kept[-1], missing))
        if remaining:
            result.unlisted[key] = remaining
        new = [hunk for hunk in remaining if not _carry_over(hunk, changed)]
        kept = [entry for entry in kept if entry.hunks or entry.not_a_copy]
        if kept or new:
            result.kept[key] = kept + ([Entry(TODO, new)] if new else [])
    return result


def _carry_over(hunk, changed, *, alike=0.5):
    """For the list printed again: give a new `hunk` to the entry whose gone hunk it most resembles, if any
    does (a line reworded, or wrapped by a formatter), so that the entry keeps its why; True if given."""
    text = "\n".join(hunk)
    scored = [
        (difflib.SequenceMatcher(None, text, "\n".join(old), autojunk=False).ratio(), index)
        for index, (_, missing) in enumerate(changed)
        for old in missing
    ]
    score, index = max(scored, default=(0, None))
    if score < alike:
        return False
    changed[index][0].hunks.append(hunk)
    return True


def render(kept, preamble, *, pairs=PAIRS):
    """The list as Markdown: `preamble`, then per pair and file each entry's why and its diff."""
    out = [preamble.rstrip(), ""]
    for pair in pairs:
        files = [(path, entries) for (name, path), entries in kept.items() if name == pair.name]
        if not files:
            continue
        out += [f"## {pair.name}: `{pair.monolith}` → `{pair.service}`", ""]
        for path, entries in sorted(files):
            if entries[0].not_a_copy:
                out += [f"### `{path}`: {NOT_A_COPY}", "", entries[0].why, ""]
                continue
            out += [f"### `{path}`", ""]
            for entry in entries:
                out += [
                    entry.why,
                    "",
                    "```diff",
                    *"\n@@\n".join("\n".join(hunk) for hunk in entry.hunks).split("\n"),
                    "```",
                    "",
                ]
    return "\n".join(out).rstrip() + "\n"


def preamble(text):
    """What comes before the first pair heading of the list: kept as it is when the list is printed again."""
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if PAIR_HEADING.match(line)), len(lines))
    return "\n".join(lines[:first])
