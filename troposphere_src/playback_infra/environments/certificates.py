"""Where a certificate comes from: a hosted zone to issue and validate it in, or an existing
ACM certificate (the ALB's in the environment's region, CloudFront's in us-east-1)."""

from __future__ import annotations

import re

_CERTIFICATE = re.compile(
    r"^arn:aws[a-z-]*:acm:([a-z]{2}-[a-z]+-\d):\d{12}:certificate/[0-9a-f-]{36}$"
)
_HOSTED_ZONE = re.compile(r"^Z[A-Z0-9]{1,32}$")


def source_violations(
    hosted_zone_id: str, certificate_arn: str, region: str, user: str
) -> list[tuple[str, str]]:
    """Every problem with a (hosted_zone_id, certificate_arn) pair as (field, message), for a
    certificate `user` (the ALB, CloudFront) takes from `region`."""
    found: list[tuple[str, str]] = []
    if bool(hosted_zone_id) == bool(certificate_arn):
        found.append(
            (
                "hosted_zone_id",
                f"give exactly one: hosted_zone_id (a certificate is issued and validated there) or certificate_arn (an existing one in {region})",
            )
        )
    if hosted_zone_id and not _HOSTED_ZONE.match(hosted_zone_id):
        found.append(
            (
                "hosted_zone_id",
                f"{hosted_zone_id!r} is not a Route 53 hosted zone ID like Z0123456789ABCDEFGHIJ",
            )
        )
    if certificate_arn:
        match = _CERTIFICATE.match(certificate_arn)
        if not match:
            found.append(("certificate_arn", f"{certificate_arn!r} is not an ACM certificate ARN"))
        elif match.group(1) != region:
            found.append(
                (
                    "certificate_arn",
                    f"the certificate is in {match.group(1)}; {user} needs one in {region}",
                )
            )
    return found
