"""Declare, on a resource, a lint or scanner finding we accept, and why."""

from __future__ import annotations

from troposphere import AWSObject

REASONS_KEY = "SuppressionReasons"
# Our own check (checks/iam.py): this resource's policies may grant on every resource of a kind
# in this account (an ARN with the account and a bare `*`), because CloudFormation generates the
# names it acts on. Never `*` alone, and never another account.
ACCOUNT_WIDE = "PLAYBACK_ACCOUNT_WIDE"


def suppress(resource: AWSObject, reasons: dict[str, str]) -> AWSObject:
    """Skip checkov checks (CKV_...) and cfn-lint rules (E/W/I...) on `resource`, each with a reason.

    checkov reads `Metadata.checkov.skip[].comment`; cfn-lint reads
    `Metadata.cfn-lint.config.ignore_checks` and has no reason field, so its reasons are kept
    beside it under `SuppressionReasons`, where our own checks' (ACCOUNT_WIDE) live too.
    `playback-infra check` fails on a skip without a reason.
    """
    metadata = dict(getattr(resource, "Metadata", {}) or {})
    for rule, reason in sorted(reasons.items()):
        if rule == ACCOUNT_WIDE:
            metadata.setdefault(REASONS_KEY, {})[rule] = reason
        elif rule.startswith("CKV"):
            checkov = metadata.setdefault("checkov", {"skip": []})
            checkov["skip"].append({"id": rule, "comment": reason})
        else:
            cfn_lint = metadata.setdefault("cfn-lint", {"config": {"ignore_checks": []}})
            cfn_lint["config"]["ignore_checks"].append(rule)
            metadata.setdefault(REASONS_KEY, {})[rule] = reason
    resource.Metadata = metadata
    return resource
