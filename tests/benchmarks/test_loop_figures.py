"""The loop's figures docs/speed.md quotes are `make bench`'s committed results
(benchmarks/loop.py, benchmarks/figures.py)."""

from __future__ import annotations

from benchmarks import figures

LOOP_FIGURES = {
    "loop.synth_seconds",
    "loop.cdk_peer_seconds",
    "loop.synth_to_cdk_peer",
    "loop.make_synth_unchanged_seconds",
    "loop.make_synth_field_changed_seconds",
    "test.make_test_minutes",
    "test.pytest_seconds",
}


def test_the_speed_doc_quotes_the_loop_figures_as_measured():
    known = figures.results()
    quoted = {
        m["name"]: m["text"]
        for m in figures.FIGURE.finditer((figures.REPO_ROOT / "docs" / "speed.md").read_text())
        if m["name"] in LOOP_FIGURES
    }
    assert set(quoted) == LOOP_FIGURES
    assert {name: figures.text_of(known[name]) for name in quoted} == quoted
