"""Route 53 and ACM pieces: a certificate validated in a hosted zone, and alias records."""

from __future__ import annotations

from troposphere import Ref
from troposphere.certificatemanager import Certificate, DomainValidationOption
from troposphere.route53 import AliasTarget, RecordSetType


def dns_validated_certificate(title: str, domain: str, zone: str, condition: str) -> Certificate:
    """A certificate for the `domain` parameter, validated through a record CloudFormation
    writes in the `zone` parameter's hosted zone. ACM renews it while that record stays."""
    return Certificate(
        title,
        Condition=condition,
        DomainName=Ref(domain),
        ValidationMethod="DNS",
        DomainValidationOptions=[
            DomainValidationOption(DomainName=Ref(domain), HostedZoneId=Ref(zone))
        ],
    )


def alias_record(
    title: str, condition: str, zone: str, name: str, record_type: str, target, target_zone
) -> RecordSetType:
    """An alias record for the `name` parameter in the `zone` parameter's hosted zone."""
    return RecordSetType(
        title,
        Condition=condition,
        HostedZoneId=Ref(zone),
        Name=Ref(name),
        Type=record_type,
        AliasTarget=AliasTarget(DNSName=target, HostedZoneId=target_zone),
    )
