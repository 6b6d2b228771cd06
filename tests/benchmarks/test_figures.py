"""The figures the docs quote are the benchmarks' committed results (benchmarks/figures.py)."""

from __future__ import annotations

import pytest

from benchmarks import figures

# What docs/speed.md quotes of each benchmark (make bench-import; make bench and bench-test).
SPEED_FIGURES = {
    "import": {
        "import.load_plays_per_second",
        "import.load_seconds",
        "import.replace_load_seconds",
        "import.parse_plays_per_second",
        "import.parse_seconds",
        "import.parse_cpu_cores",
        "import.cores",
    },
    "loop": {
        "loop.synth_seconds",
        "loop.cdk_peer_seconds",
        "loop.synth_to_cdk_peer",
        "loop.make_synth_unchanged_seconds",
        "loop.make_synth_field_changed_seconds",
        "test.make_test_minutes",
        "test.pytest_seconds",
    },
}


def test_every_quoted_figure_is_the_results():
    known = figures.results()
    wrong = [
        f"{path.name}: {match['name']} is {match['text']!r}, the results say "
        + (repr(figures.text_of(known[match["name"]])) if match["name"] in known else "nothing")
        for path in figures.docs()
        for match in figures.FIGURE.finditer(path.read_text())
        if match["name"] not in known or match["text"] != figures.text_of(known[match["name"]])
    ]
    assert wrong == [], "run `make bench-import` (or python benchmarks/figures.py)"


@pytest.mark.parametrize("benchmark", SPEED_FIGURES)
def test_the_speed_doc_quotes_the_benchmarks_figures(benchmark):
    """Each quoted as measured: test_every_quoted_figure_is_the_results."""
    speed = figures.REPO_ROOT / "docs" / "speed.md"
    quoted = {m["name"] for m in figures.FIGURE.finditer(speed.read_text())}
    assert quoted >= SPEED_FIGURES[benchmark]
    assert set(figures.results()) >= SPEED_FIGURES[benchmark]


def test_render_writes_figures_and_names_an_unknown_one():
    text = "load <!-- figure a.rate -->1<!-- /figure --> plays/s in <!-- figure a.s -->9<!-- /figure --> s"
    assert figures.render(text, {"a.rate": 82000, "a.s": 2.3}) == (
        "load <!-- figure a.rate -->82,000<!-- /figure --> plays/s in "
        "<!-- figure a.s -->2.3<!-- /figure --> s"
    )
    with pytest.raises(KeyError, match=r"a\.s"):
        figures.render(text, {"a.rate": 1})
