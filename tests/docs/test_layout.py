"""The docs as a newcomer meets them: the README is a front page of at most 12 KB that links
every doc; each topic has one home; links and anchors resolve; no doc names files outside the
repository, issue numbers or checklist numbers; no hand-written doc types a figure a generator
produces (the cost estimate, the emulator coverage, test and scanner counts)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from playback_infra.paths import REPO_ROOT
from tests.docs.markdown import DOCS, README, anchors, blocks, generated, headings, links, relative

README_LIMIT = 12_288
README_SECTIONS = [
    "Prerequisites",
    "The two commands",
    "Deploy dev locally",
    "Deploy dev to a real account",
    "The docs",
]
# Topic -> (its one home, the heading it lives under). The README links the home; no other doc
# has a heading of that name.
TOPICS = {
    "the stacks and how they nest": ("architecture.md", "The stacks"),
    "the environment model": ("architecture.md", "The environment model"),
    "why each design choice": ("decisions.md", "Decisions"),
    "every field of every environment": ("environments.md", "Environments: every field"),
    "the checks": ("checks.md", "The checks"),
    "diff and the replacement allow-list": ("checks.md", "Changing infrastructure safely"),
    "the commands": ("commands.md", "Commands"),
    "awscli v1 parameter words": ("commands.md", "Parameter files for awscli v1"),
    "the emulator": ("emulator.md", "The local AWS emulator: what it proves and what it cannot"),
    "taskcat": (
        "taskcat.md",
        "taskcat: the templates deployed as AWS's own test harness deploys them",
    ),
    "speed": ("speed.md", "Speed"),
    "the pipelines": ("delivery.md", "The pipelines (pipeline stack)"),
    "the pipelines' bootstrap": ("delivery.md", "Bootstrap (once)"),
    "the ALB": ("web-and-edge.md", "The API's load balancer"),
    "the backend service and its images": ("backend.md", "The backend service and its images"),
    "the first images": ("backend.md", "The first images"),
    "the data tier": ("data-tier.md", "The data tier: the database, its secrets and rotation"),
    "disaster recovery": ("disaster-recovery.md", "Disaster recovery"),
    "the schema and migrations": ("schema.md", "The database schema and migrations"),
    "the Retrosheet import": ("game-data.md", "The importer"),
    "observability": (
        "observability.md",
        "Observability: where to look, who is told, traces, logs",
    ),
    "every alarm": ("monitoring.md", "Monitoring: every alarm"),
    "the cost estimate": ("cost.md", "Estimated monthly cost"),
    "cost allocation tags": ("operations.md", "Cost allocation tags"),
    "what only a real account shows": ("verify.md", "What only a real account shows"),
    "security": ("security.md", "Security: threat model, controls, testing, findings"),
    "runbooks": ("runbooks.md", "Runbooks"),
}
# Text no doc may hold: files outside the repository, issue and checklist numbers.
OUTSIDE = [
    re.compile(r"DESIGN(\.md|'s)"),
    re.compile(r"/work/shared|\.\./shared"),
    re.compile(r"\bissues?\s+#?\d+", re.IGNORECASE),
    re.compile(r"\bseed\s+\d+(\.\d+)*|\bthe seed's\b", re.IGNORECASE),
    re.compile(r"\b(checklist|item)\s+#?\d+(\.\d+)+", re.IGNORECASE),
]
ISSUE_REFERENCE = re.compile(r"(?<![\w&/#])#\d+\b")  # `#17` in prose (not `&#39;`, not a colour)
# Code whose comments and messages a reader sees.
SOURCES = [
    *(REPO_ROOT / "troposphere_src").rglob("*.py"),
    *(REPO_ROOT / "jobs").rglob("*.py"),
    *(REPO_ROOT / "benchmarks").glob("*.py"),
    *(REPO_ROOT / "load").glob("*.py"),
    *(REPO_ROOT / "pipeline").glob("*.yml"),
    *(REPO_ROOT / "database" / "scripts").glob("*"),
    *(REPO_ROOT / "database" / "migrations").glob("*.js"),
    *(REPO_ROOT / "database" / "lib").glob("*.js"),
    REPO_ROOT / "database" / "knexfile.js",
    REPO_ROOT / "Makefile",
    REPO_ROOT / "jobs" / "Dockerfile",
]
# Figures a generator produces, typed by hand: a cost with cents that is not a unit price, the
# emulator coverage, test and scanner counts.
TYPED_FIGURES = [
    re.compile(r"\$\d[\d,]*\.\d\d\b(?! per\b)"),
    re.compile(r"\b\d+ of \d+ (resource )?types\b"),
    re.compile(r"\b\d[\d,]*\+? tests\b|\b\d+ passed\b|\bpassed in \d"),
    re.compile(r"\b\d+ (passed|failed|skipped), \d+ (passed|failed|skipped)\b"),
]


def _doc(name: str) -> Path:
    return REPO_ROOT / "docs" / name


def _section(text: str, heading: str) -> str:
    start = text.index(f"## {heading}\n")
    following = text.find("\n## ", start + 1)
    return text[start : following if following != -1 else len(text)]


def test_the_readme_is_a_front_page():
    text = README.read_text()
    assert len(text.encode()) <= README_LIMIT, f"README.md: {len(text.encode())} bytes"
    assert [h for h in headings(text)][1:] == README_SECTIONS


def test_the_readme_maps_every_doc_once():
    section = _section(README.read_text(), "The docs")
    mapped = [target for target in links(section)]
    docs = sorted(f"docs/{p.name}" for p in (REPO_ROOT / "docs").glob("*.md"))
    assert sorted(mapped) == docs
    # One line per doc, saying what the reader finds there.
    lines = [line for line in section.splitlines() if line.startswith("- [")]
    assert len(lines) == len(docs) and all(": " in line for line in lines)


@pytest.mark.parametrize("topic", TOPICS)
def test_each_topic_has_one_home(topic):
    home, heading = TOPICS[topic]
    assert heading in headings(_doc(home).read_text()), f"{home} has no heading {heading!r}"
    assert f"docs/{home}" in links(README.read_text()), f"the README does not link {home}"
    elsewhere = [
        relative(path)
        for path in DOCS
        if path != _doc(home) and heading.lower() in (h.lower() for h in headings(path.read_text()))
    ]
    assert elsewhere == [], f"{heading!r} is {home}'s; {elsewhere} repeat it"


@pytest.mark.parametrize("path", DOCS, ids=relative)
def test_links_and_anchors_resolve(path):
    text = path.read_text()
    broken = []
    for target in links(text):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists():
            broken.append(f"{target}: no {file}")
        elif anchor and anchor not in anchors(linked.read_text()):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    assert broken == [], f"{relative(path)}: {broken}"


def test_every_doc_the_code_names_exists():
    named = {
        (relative(source), name)
        for source in [*SOURCES, *(REPO_ROOT / "tests").rglob("*.py")]
        for name in re.findall(r"\bdocs/([a-z0-9-]+\.md)\b", source.read_text())
    }
    assert [n for n in named if not _doc(n[1]).exists()] == []


def test_every_code_block_names_its_language():
    """So that the runner of the docs' commands (test_commands_run.py) sees every shell block."""
    unnamed = [block.where for path in DOCS for block in blocks(path) if not block.language]
    assert unnamed == []


@pytest.mark.parametrize("path", [*DOCS, *SOURCES], ids=relative)
def test_nothing_names_outside_files_issues_or_checklist_items(path):
    text = path.read_text()
    found = [m.group() for pattern in OUTSIDE for m in pattern.finditer(text)]
    if path.suffix == ".md":
        found += ISSUE_REFERENCE.findall("\n".join(b for b in _prose(text)))
    assert found == [], f"{relative(path)}: {found}"


def _prose(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.lstrip().startswith("```")]


@pytest.mark.parametrize("path", [p for p in DOCS if not generated(p)], ids=relative)
def test_hand_written_docs_type_no_generated_figure(path):
    """Costs come from docs/cost.md and `playback-infra cost`, the coverage from
    docs/emulator-coverage.md, counts from the tools; measured figures are quoted through
    benchmarks/figures.py (tests/benchmarks/test_figures.py)."""
    text = path.read_text()
    found = [m.group() for pattern in TYPED_FIGURES for m in pattern.finditer(text)]
    assert found == [], f"{relative(path)}: {found}: link the generated doc instead"


@pytest.mark.parametrize(
    "text, forbidden",
    [
        ("the design (DESIGN.md, 5.1)", True),
        ("as DESIGN's table has it", True),
        ("read /work/shared/STYLE.md", True),
        ("see ../shared/seeds", True),
        ("the backend pipeline (issue 6)", True),
        ("issues 5 and 8", True),
        ("Grants (seed 2.2)", True),
        ("staging keeps the seed's db.t3.small", True),
        ("checklist item 5.1", True),
        ("item 3.1 asks for it", True),
        ("the certificate is issued in 5 minutes", False),
        ("`app.image_tag` seeds the first deployment", False),
        ("MySQL 8.4 and MariaDB 10.11", False),
        ("the issue tracker", False),
    ],
)
def test_the_outside_patterns_catch_what_they_mean(text, forbidden):
    assert any(p.search(text) for p in OUTSIDE) is forbidden


@pytest.mark.parametrize(
    "text, typed",
    [
        ("dev: every feature at $85.28 a month", True),
        ("| **total** | **85.28** |", False),  # a bare table cell: cost.md's own format
        ("what read it back: 53 of 54 types", True),
        ("(1,000+ tests, the emulator deploys included)", True),
        ("`1 passed in 16.97s`", True),
        ("checkov (3.3.30) | 274 passed, 0 failed, 9 skipped", True),
        ("$0.80 per million S3 data events", False),
        ("a 30 s grace period", False),
    ],
)
def test_the_figure_patterns_catch_what_they_mean(text, typed):
    assert any(p.search(text) for p in TYPED_FIGURES) is typed
