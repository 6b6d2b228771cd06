"""Every command the documentation shows exists: each `playback-infra ...` in a fenced code
block of README.md and docs/*.md parses with the real CLI parser (nothing runs), each
`make X` names a Makefile target, and each `aws SERVICE OPERATION --option` names a service,
an operation and options awscli knows (its command table is botocore's service models plus
awscli's own commands such as `cloudformation deploy` and `s3 cp`)."""

from __future__ import annotations

import re
import shlex
from functools import cache

import botocore.session
import pytest
from awscli.clidriver import ServiceOperation, create_clidriver

from playback_infra.cli import _parser
from playback_infra.paths import REPO_ROOT
from tests.docs.markdown import DOCS, blocks, relative

# A fence's language is the first word of its info string (```bash account: bash); none is shell.
SHELL_LANGUAGES = {"", "bash", "sh", "shell"}
PROGRAMS = {"playback-infra": "playback-infra", ".venv/bin/playback-infra": "playback-infra",
            "make": "make", "aws": "aws"}  # fmt: skip


def _simple_commands(line: str) -> list[list[str]]:
    """The words of each simple command of a shell line: split at pipes, lists, `$(...)`,
    `<(...)` and a function body's braces; a `<PLACEHOLDER>` is one word, as the reader
    substitutes it."""
    lexer = shlex.shlex(re.sub(r"<([^<>\s]+)>", r"\1", line), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands, words = [], []
    for token in lexer:
        if token in ("$", "{", "}") or set(token) <= set("();<>|&"):
            commands.append(words)
            words = []
        else:
            words.append(token)
    return [c for c in [*commands, words] if c]


def _commands(program: str) -> list[tuple[str, list[str] | None]]:
    """(where, arguments) of every use of `program` in a fenced shell block of the docs; None
    for a line that names it but is not valid shell."""
    found = []
    for path in DOCS:
        for block in blocks(path):
            if block.language not in SHELL_LANGUAGES:
                continue
            for line in block.text.replace("\\\n", " ").splitlines():
                try:
                    commands = _simple_commands(line)
                except ValueError:  # not shell: a diagram or sample output in a plain block
                    if re.search(rf"(^|[\s(/]){re.escape(program)}\s", line):
                        found.append((f"{relative(path)}: {line}", None))
                    continue
                for words in commands:
                    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\+?=.*", words[0]):
                        words = words[1:]  # VAR=value before the program
                    if words and PROGRAMS.get(words[0]) == program:
                        where = f"{relative(path)}: {' '.join(words)}"
                        found.append((where, words[1:]))
    return found


def test_the_docs_show_commands_of_every_kind():
    assert len(_commands("playback-infra")) >= 20
    assert len(_commands("make")) >= 5
    assert len(_commands("aws")) >= 30


@pytest.mark.parametrize("where, words", _commands("playback-infra"), ids=lambda v: str(v)[:80])
def test_playback_infra_command_parses(where, words, capsys):
    assert words is not None, f"{where}: not a shell line"
    try:
        args = _parser().parse_args(words)
    except SystemExit:
        pytest.fail(f"{where}\n{capsys.readouterr().err}")
    assert callable(args.run)


@cache
def _make_targets() -> set[str]:
    text = (REPO_ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z0-9_./%-]+):", text, re.MULTILINE))


@pytest.mark.parametrize("where, words", _commands("make"), ids=lambda v: str(v)[:80])
def test_make_target_exists(where, words):
    assert words is not None, f"{where}: not a shell line"
    targets = [w for w in words if not w.startswith("-") and "=" not in w]
    for target in targets:
        pattern = re.sub(r"^\.venv-[a-z]+/", ".venv-%/", target)
        assert target in _make_targets() or pattern in _make_targets(), where


@cache
def _aws():
    driver = create_clidriver()
    return driver, driver._get_command_table(), set(driver._get_argument_table())


def _subcommands(command) -> dict:
    table = getattr(command, "subcommand_table", None)
    return table if table is not None else command._get_command_table()


@pytest.mark.parametrize("where, words", _commands("aws"), ids=lambda v: str(v)[:80])
def test_aws_command_exists(where, words):
    assert words is not None, f"{where}: not a shell line"
    _, services, global_options = _aws()
    service, operation = words[:2]
    assert service in services, f"{where}: no service {service!r}"
    operations = _subcommands(services[service])
    assert operation in operations, f"{where}: no operation {operation!r} in {service}"
    command = operations[operation]
    for word in words[2:]:  # `cloudformation wait stack-update-complete`: a nested command
        nested = getattr(command, "subcommand_table", None) or {}
        if word.startswith("-") or word not in nested:
            break
        command = nested[word]
    if isinstance(command, ServiceOperation):
        model = command._operation_model
        assert model.name in (
            botocore.session.get_session()
            .get_service_model(model.service_model.service_name)
            .operation_names
        )
    known = set(command.arg_table) | global_options
    used = {w[2:].split("=")[0] for w in words if w.startswith("--")}
    assert used <= known, f"{where}: unknown options {sorted(used - known)}"
