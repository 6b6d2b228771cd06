"""Every accepted finding carries its reason (see `parts.suppress`)."""

from __future__ import annotations

from playback_infra.parts.suppress import REASONS_KEY


def problems(templates: dict[str, dict]) -> list[str]:
    found = []
    for template_name, template in sorted(templates.items()):
        for logical_id, resource in sorted(template.get("Resources", {}).items()):
            metadata = resource.get("Metadata", {})
            for skip in metadata.get("checkov", {}).get("skip", []):
                if not str(skip.get("comment", "")).strip():
                    found.append(
                        f"{template_name}: {logical_id}: checkov skip {skip.get('id')} has no reason"
                    )
            reasons = metadata.get(REASONS_KEY, {})
            for rule in metadata.get("cfn-lint", {}).get("config", {}).get("ignore_checks", []):
                if not str(reasons.get(rule, "")).strip():
                    found.append(
                        f"{template_name}: {logical_id}: cfn-lint ignore {rule} has no reason in {REASONS_KEY}"
                    )
    return found
