"""Measured figures the docs quote, from the benchmarks' committed results.

Each benchmark writes `benchmarks/results/<name>.json`: what it ran and where, and `figures`, a
flat map of key -> number as the docs show it (already rounded). A doc quotes one as
`<!-- figure NAME.KEY -->TEXT<!-- /figure -->` (invisible in rendered Markdown);
`python benchmarks/figures.py` rewrites every TEXT in README.md and docs/*.md from the results
(`make bench-import` runs it after the benchmark), and tests/benchmarks/test_figures.py fails
when a doc quotes a figure the results do not hold.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "benchmarks" / "results"
FIGURE = re.compile(r"<!-- figure (?P<name>[\w.]+) -->(?P<text>.*?)<!-- /figure -->")


def results() -> dict[str, int | float]:
    """Every committed figure, as `<results file stem>.<key>`."""
    return {
        f"{path.stem}.{key}": value
        for path in sorted(RESULTS.glob("*.json"))
        for key, value in json.loads(path.read_text())["figures"].items()
    }


def text_of(value: int | float) -> str:
    """A figure as the docs write it: thousands separated (82,000; 2.1)."""
    return f"{value:,}"


def docs() -> list[Path]:
    return [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


def render(text: str, figures: dict[str, int | float]) -> str:
    """`text` with every quoted figure written from `figures`; KeyError names an unknown one."""

    def figure(match: re.Match) -> str:
        name = match["name"]
        return f"<!-- figure {name} -->{text_of(figures[name])}<!-- /figure -->"

    return FIGURE.sub(figure, text)


def main() -> int:
    figures = results()
    for path in docs():
        text = path.read_text()
        try:
            rendered = render(text, figures)
        except KeyError as unknown:
            print(
                f"{path.relative_to(REPO_ROOT)}: no figure {unknown} in {RESULTS}", file=sys.stderr
            )
            return 2
        if rendered != text:
            path.write_text(rendered)
            print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
