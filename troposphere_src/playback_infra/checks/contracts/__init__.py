"""AWS contracts: documented AWS behaviours that cfn-lint and checkov do not check, and that
the local emulator does not enforce (it evaluates no key policy, runs no rotation function,
pulls no image). Each rule is one module beside this one and cites the AWS page it encodes,
in its docstring and in every failure; `playback-infra check` runs them all.
"""

from __future__ import annotations

from collections.abc import Sequence

from playback_infra.checks.contracts import keys
from playback_infra.checks.contracts.rule import Rule, Subject, subject

# Each rule module's RULE, in the order `check` reports them.
RULES: tuple[Rule, ...] = (keys.RULE,)

__all__ = ["RULES", "Rule", "Subject", "problems", "subject"]


def problems(checked: Subject, rules: Sequence[Rule] = RULES) -> list[str]:
    """Every violation of every rule, each naming its rule and AWS page."""
    return [found for rule in rules for found in rule.problems(checked)]
