"""Declare, on a resource, a lint or scanner finding we accept, and why."""

from __future__ import annotations

from troposphere import AWSObject

REASONS_KEY = "SuppressionReasons"


def suppress(resource: AWSObject, reasons: dict[str, str]) -> AWSObject:
    """Skip checkov checks (CKV_...) and cfn-lint rules (E/W/I...) on `resource`, each with a reason.

    checkov reads `Metadata.checkov.skip[].comment`; cfn-lint reads
    `Metadata.cfn-lint.config.ignore_checks` and has no reason field, so its reasons are kept
    beside it under `SuppressionReasons`. `playback-infra check` fails on a skip without a reason.
    """
    metadata = dict(getattr(resource, "Metadata", {}) or {})
    for rule, reason in sorted(reasons.items()):
        if rule.startswith("CKV"):
            checkov = metadata.setdefault("checkov", {"skip": []})
            checkov["skip"].append({"id": rule, "comment": reason})
        else:
            cfn_lint = metadata.setdefault("cfn-lint", {"config": {"ignore_checks": []}})
            cfn_lint["config"]["ignore_checks"].append(rule)
            metadata.setdefault(REASONS_KEY, {})[rule] = reason
    resource.Metadata = metadata
    return resource
