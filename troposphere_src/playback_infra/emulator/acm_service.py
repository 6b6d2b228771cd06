"""ACM for ministack's CloudFormation engine: a certificate validates in its hosted zone
(``validate_in_hosted_zone``).
"""

import functools
from xml.etree import ElementTree

from ministack.services import acm, route53
from served import xml_answer, xml_members

# --- AWS::CertificateManager::Certificate: DNS validation in the hosted zone ---------------

CERTIFICATE = "AWS::CertificateManager::Certificate"
_ROUTE53_NS = "https://route53.amazonaws.com/doc/2013-04-01/"


def _upsert_validation_record(zone_id, record):
    """Write a validation CNAME into the zone (ChangeResourceRecordSets, UPSERT)."""
    record_set = {
        "Name": record["Name"],
        "Type": record["Type"],
        "TTL": 300,
        "ResourceRecords": {"ResourceRecord": {"Value": record["Value"]}},
    }
    root = ElementTree.Element("ChangeResourceRecordSetsRequest", xmlns=_ROUTE53_NS)
    xml_members(
        root,
        {
            "ChangeBatch": {
                "Changes": {"Change": {"Action": "UPSERT", "ResourceRecordSet": record_set}}
            }
        },
    )
    xml_answer(
        route53._change_resource_record_sets(zone_id, ElementTree.tostring(root)),
        f"{CERTIFICATE}: DNS validation in hosted zone {zone_id} failed",
    )


def _write_validation_records(arn, props):
    """For DNS validation, each domain's validation CNAME goes into the HostedZoneId its
    DomainValidationOptions entry names, when Route 53 here has that zone."""
    if props.get("ValidationMethod", "DNS") != "DNS":
        return
    zones = {
        option["DomainName"]: option["HostedZoneId"]
        for option in props.get("DomainValidationOptions") or []
        if option.get("HostedZoneId") in route53._zones and option.get("DomainName")
    }
    for option in acm._certificates[arn].get("DomainValidationOptions") or []:
        if option["DomainName"] in zones and option.get("ResourceRecord"):
            _upsert_validation_record(zones[option["DomainName"]], option["ResourceRecord"])


def validate_in_hosted_zone(handlers):
    """Wrap ministack's AWS::CertificateManager::Certificate create and update so DNS
    validation writes each domain's validation CNAME into the hosted zone its
    DomainValidationOptions HostedZoneId names, as CloudFormation does.

    ministack 1.5.33 ignores HostedZoneId (DescribeCertificate has no such field, so the zone
    only shows in Route 53). As on AWS, the record stays when the certificate is deleted
    (aws-cloudformation/cloudformation-coverage-roadmap#1603). A zone Route 53 here does not
    have (an environment's real zone id, which fails the validation on AWS) gets no record,
    and the certificate is issued at once, as ministack issues every certificate: an
    environment deploys into the emulator without its zones.
    """
    create, update = handlers["create"], handlers["update"]

    @functools.wraps(create)
    def created(logical_id, props, stack_name):
        arn, attributes = create(logical_id, props, stack_name)
        try:
            _write_validation_records(arn, props)
        except ValueError:
            acm._certificates.pop(arn, None)
            raise
        return arn, attributes

    @functools.wraps(update)
    def updated(physical_id, old_props, new_props, stack_name, logical_id=None):
        arn, attributes = update(physical_id, old_props, new_props, stack_name, logical_id)
        _write_validation_records(arn, new_props)
        return arn, attributes

    return {**handlers, "create": created, "update": updated}
