""" "did you mean": the closest of the valid words to a misspelt one."""

from __future__ import annotations

from collections.abc import Iterable


def _common_start(a: str, b: str) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like `word` (difflib's ratio, ties to the longest common start: us-eest-1
    is us-east-1 rather than us-west-1), or None when none is close."""
    import difflib  # here: only a misspelling needs it, and every command imports this module

    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    if not close:
        return None
    best = difflib.SequenceMatcher(None, word, close[0]).ratio()
    tied = [c for c in close if difflib.SequenceMatcher(None, word, c).ratio() == best]
    return max(tied, key=lambda c: _common_start(word, c))


def did_you_mean(word: str, choices: Iterable[str], end: str = "?") -> str:
    """ "did you mean X?" (`end` after it) for the closest choice, or ""."""
    found = closest(word, choices)
    return f"did you mean {found}{end}" if found else ""
