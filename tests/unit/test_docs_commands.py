"""Every command the docs tell a reader to type names things that exist.

Reads the shell blocks (```sh, ```bash, ```shell, ```console) of README.md, docs/**/*.md and the
services' READMEs, and checks each `shop` command against the real parser (shopctl.cli.build_parser:
subcommand, flags, their values), each `make` target against the Makefile, each `manage.py`
command against the commands of the project it runs in, and each `python -m` module. Across the
whole text (blocks, inline code and links) it checks that each repository path named exists and
that each path on the facade (http://127.0.0.1:8080/...) resolves to one of the monolith's routes.
A failure names the file, the line and what is missing.
"""

import argparse
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

from shopctl import cli, stack

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *ROOT.glob("docs/**/*.md"), *ROOT.glob("extracted/*/README.md")])
SHELL_LANGUAGES = {"sh", "bash", "shell", "console"}
# The folders and files of the repository a path may start with; .venv/ and .run/ are made by
# running things, so their paths are not checked.
TOP_LEVEL = ("docs/", "monolith/", "extracted/", "shopctl/", "proxy/", "tests/", "bench/", "deploy/", ".ci/")
TOP_FILES = {"README.md", "Makefile", "Dockerfile", "docker-compose.yml", "pyproject.toml", "manage.py"}
# What a placeholder in a URL stands for, so that the path can be resolved.
PLACEHOLDERS = {
    "sku": "COF-0001",
    "number": "5SWWWR75NM",
    "uuid": "0b6d9c0e-5d0e-4b8e-9a57-7f1c2a44aa00",
    "slug": "coffee",
}
PLACEHOLDER = re.compile(r"<([^<>]+)>")
FACADE_URL = re.compile(r"http://127\.0\.0\.1:8080(/[^\s`'\")<>\]]*(?:<[^<>\s]+>[^\s`'\")<>\]]*)*)")
SERVICE_URL = re.compile(r"http://127\.0\.0\.1:(8002|8003)(/[^\s`'\")\]]*)")
# What the services serve (they are other Django projects, which this process cannot load).
SERVICE_PREFIXES = {
    "8002": ("/api/catalog/", "/ops/faults/", "/admin/", "/api-auth/", "/healthz", "/readyz", "/static/"),
    "8003": ("/api/payments/", "/ops/faults/", "/ops/payments/", "/admin/", "/api-auth/", "/healthz", "/readyz"),
}
PROJECTS = {"monolith": ROOT, "catalog": ROOT / "extracted/catalog", "payments": ROOT / "extracted/payments"}


def shell_blocks(path):
    """(line number, language, [(line number, line)]) for each fenced block of the file."""
    blocks, current = [], None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fence = re.match(r"\s*```(\w*)\s*$", line)
        if fence and current is None:
            current = (number, fence.group(1), [])
        elif fence:
            blocks.append(current)
            current = None
        elif current is not None:
            current[2].append((number, line))
    return blocks


def commands(path):
    """(line number, argv, project) for each simple command in the file's shell blocks, and in its
    inline code that runs `shop`, `make` or `manage.py` (optional parts in [brackets] left out).

    The prose names no project for its `manage.py` commands: theirs is None (any project's will
    do), and `shop stage` alone is the command's name, not a command missing its stage."""
    default = next((name for name, folder in PROJECTS.items() if folder != ROOT and folder in path.parents), "monolith")
    found = []
    for _, language, lines in shell_blocks(path):
        if language not in SHELL_LANGUAGES:
            continue
        project, pending = default, None
        for number, text in _logical_lines(lines, console=language == "console"):
            if pending:  # a quoted string that goes on over lines (a JSON body)
                number, text = pending[0], pending[1] + "\n" + text
            try:
                tokens = _tokens(text)
            except ValueError:
                pending = (number, text)
                continue
            pending = None
            for argv in _split(tokens):
                if argv[:1] == ["cd"] and len(argv) > 1:
                    project = next(
                        (
                            name
                            for name, folder in PROJECTS.items()
                            if argv[1].rstrip("/") == str(folder.relative_to(ROOT))
                        ),
                        project,
                    )
                found.append((number, argv, project))
    in_block = False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if re.match(r"\s*```", line):
            in_block = not in_block
            continue
        for code in [] if in_block else re.findall(r"`([^`]+)`", line):
            if re.match(r"(\.venv/bin/)?shop |make |(\S*python3? )?manage\.py ", code):
                try:
                    tokens = _tokens(re.sub(r"\[[^\]]*\]", "", code))
                except ValueError:
                    continue
                found += [(number, argv, None) for argv in _split(tokens) if not _a_name(argv)]
    return found


def _tokens(text):
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)


def _a_name(argv):
    """`shop stage` in a sentence: the subcommand named, not run."""
    shop_args = _shop_argv(argv)
    return shop_args is not None and len(shop_args) == 1 and shop_args[0] in ("stage", "trace")


def _logical_lines(lines, console):
    """Lines joined at a trailing backslash; for a console block only the lines after a prompt."""
    pending, start = "", None
    for number, line in lines:
        if console:
            if not pending and not line.lstrip().startswith("$ "):
                continue
            line = line.lstrip().removeprefix("$ ") if not pending else line
        start = start or number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        yield start, pending + line
        pending, start = "", None


def _split(tokens):
    """The simple commands of a tokenised line, without leading VAR=value assignments."""
    argv = []
    for token in [*tokens, ";"]:
        if token and set(token) <= set(";&|"):
            while argv and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", argv[0]):
                argv.pop(0)
            if argv[:1] == ["env"]:
                argv = [word for word in argv[1:] if not word.startswith("-") and "=" not in word]
            if argv:
                yield argv
            argv = []
        else:
            argv.append(token)


def _where(path, number):
    return f"{path.relative_to(ROOT) if ROOT in path.parents else path.name}, line {number}"


def _raising_parser():
    """shop's parser, whose every level raises instead of printing and exiting."""

    class Refused(Exception):
        pass

    def refuse(message):
        raise Refused(message)

    parser = cli.build_parser()
    parsers = [parser]
    while parsers:
        current = parsers.pop()
        current.error = refuse
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
    return parser, Refused


def _shop_argv(argv):
    """The arguments after `shop` when argv runs the shop command, else None."""
    program = argv[0]
    if program == "shop" or program.endswith("/shop"):
        return argv[1:]
    if re.fullmatch(r"(\S*/)?python3?", program) and argv[1:3] == ["-m", "shopctl"]:
        return argv[3:]
    return None


@cache
def _make_targets():
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z0-9_./$()-]+)\s*:(?!=)", text, re.M)) | {".venv/.installed"}


@cache
def _management_commands(project):
    """The commands `manage.py` has in that project (its own, its apps', Django's)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "help", "--commands"],
        cwd=PROJECTS[project],
        # Each project's manage.py chooses its own settings; the tests' would override them.
        env={name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def _substitute(text):
    return PLACEHOLDER.sub(lambda match: PLACEHOLDERS.get(match.group(1), "x1"), text)


def problems_in(path):
    """What the file names that does not exist, one sentence each."""
    problems = []
    parser, refused = _raising_parser()
    for number, argv, project in commands(path):
        where = _where(path, number)
        shop_args = _shop_argv(argv)
        if shop_args is not None:
            try:
                # N is a stage's number in the prose (`shop stage N`).
                args = parser.parse_args(["0" if arg == "N" else _substitute(arg) for arg in shop_args])
            except refused as error:
                problems.append(f"{where}: `shop {' '.join(shop_args)}`: {error}")
                continue
            unknown = set(getattr(args, "only", None) or []) - set(stack.processes())
            if args.command == "up" and unknown:
                problems.append(f"{where}: `shop up` has no process {', '.join(sorted(unknown))}")
        elif argv[0] == "make":
            for target in argv[1:]:
                if not target.startswith("-") and "=" not in target and target not in _make_targets():
                    problems.append(f"{where}: the Makefile has no target {target!r}")
        if "manage.py" in argv and argv.index("manage.py") + 1 < len(argv):
            command = argv[argv.index("manage.py") + 1]
            projects = [project] if project else list(PROJECTS)
            if not any(command in _management_commands(name) for name in projects):
                problems.append(f"{where}: `manage.py {command}`: the {project or 'no'} project has no such command")
        module = argv[2] if len(argv) > 2 and re.fullmatch(r"(\S*/)?python3?", argv[0]) and argv[1] == "-m" else None
        if module and importlib.util.find_spec(module) is None:
            problems.append(f"{where}: `python -m {module}`: no such module")
    problems += _paths_and_urls(path)
    return problems


def _paths_and_urls(path):
    problems = []
    in_block = False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if re.match(r"\s*```", line):
            in_block = not in_block
            continue
        where = _where(path, number)
        words = re.findall(r"`([^`]+)`", line) if not in_block else line.split("#")[0].split()
        for word in words:
            for candidate in re.split(r"[\s,()]+", word):
                candidate = re.sub(r"\[[\w,]+\]$", "", candidate.strip("'\"").rstrip(".:;"))
                if _is_repository_path(candidate) and not _exists(candidate, path):
                    problems.append(f"{where}: no file or folder {candidate}")
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            file = target.split("#")[0]
            if file and not re.match(r"[a-z]+:", file) and not (path.parent / file).exists():
                problems.append(f"{where}: the link {target} leads nowhere")
        for url_path in FACADE_URL.findall(line):
            url_path = _substitute(url_path.split("?")[0].split("#")[0]).rstrip(".,;:")
            if not url_path.startswith("/static/"):
                try:
                    resolve(url_path)
                except Resolver404:
                    problems.append(f"{where}: no route of the monolith answers {url_path}")
        for port, url_path in SERVICE_URL.findall(line):
            if not url_path.startswith(SERVICE_PREFIXES[port]) and url_path != "/":
                problems.append(f"{where}: the service at :{port} serves nothing under {url_path}")
    return problems


def _is_repository_path(candidate):
    if any(mark in candidate for mark in "<>*$…{}") or "..." in candidate:
        return False
    return candidate in TOP_FILES or (candidate.startswith(TOP_LEVEL) and "/" in candidate.rstrip("/"))


def _exists(candidate, doc):
    # A path in a service's README may be the service's own (its project is its folder); `N` is
    # a stage's number (proxy/routes/stage-N.conf).
    candidate = re.sub(r"\bN\b", "0", candidate)
    return any((base / candidate).exists() for base in (ROOT, doc.parent))


@pytest.mark.parametrize("path", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_what_the_docs_name_exists(path):
    problems = problems_in(path)
    assert not problems, "\n".join(problems)


def test_the_check_finds_what_is_missing(tmp_path):
    """A doc naming a flag, a target, a command, a file and a page that do not exist fails on each,
    and on nothing else."""
    doc = tmp_path / "probe.md"
    doc.write_text(
        "```sh\n"
        ".venv/bin/shop stage 7\n"
        ".venv/bin/shop load --no-such-flag\n"
        "make no-such-target\n"
        ".venv/bin/python manage.py no_such_command\n"
        "cd extracted/payments && ../../.venv/bin/python manage.py seed_shop\n"
        "```\n"
        "See `monolith/no_such_file.py`, [this](no-such.md) and http://127.0.0.1:8080/no-such-page/.\n"
        "In a sentence, `shop stage` is a name, but `shop stage 9` and `manage.py no_such_thing` are commands.\n"
    )
    problems = "\n".join(problems_in(doc))
    expected_problems = (
        "line 2: `shop stage 7`",
        "line 3: `shop load --no-such-flag`",
        "line 4: the Makefile has no target 'no-such-target'",
        "line 5: `manage.py no_such_command`: the monolith project",
        "line 6: `manage.py seed_shop`: the payments project",
        "line 8: no file or folder monolith/no_such_file.py",
        "line 8: the link no-such.md leads nowhere",
        "line 8: no route of the monolith answers /no-such-page/",
        "line 9: `shop stage 9`",
        "line 9: `manage.py no_such_thing`: the no project has no such command",
    )
    for expected in expected_problems:
        assert expected in problems, problems
    assert len(problems.splitlines()) == len(expected_problems), problems
