"""Certificates in ministack with the plugin (emulator/acm_service.py): DNS validation in a
hosted zone the emulator lacks. One emulator serves the module.
"""

from __future__ import annotations

import json

import pytest

from conftest import deploy
from tests.stacks.helpers import ref

pytestmark = pytest.mark.emulator


def test_a_certificate_in_a_zone_the_emulator_lacks_is_issued_without_a_record(cfn, aws):
    """An environment's real zone id does not exist here: the certificate is still issued,
    so the environment deploys, and no zone gets a record."""
    domain = "nowhere.example.org"
    template = {
        "Resources": {
            "Certificate": {
                "Type": "AWS::CertificateManager::Certificate",
                "Properties": {
                    "DomainName": domain,
                    "ValidationMethod": "DNS",
                    "DomainValidationOptions": [
                        {"DomainName": domain, "HostedZoneId": "Z0NOSUCHZONE"}
                    ],
                },
            }
        },
        "Outputs": {"Certificate": {"Value": ref("Certificate")}},
    }
    _stack_id, outputs = deploy(cfn, json.dumps(template))
    described = aws("acm").describe_certificate(CertificateArn=outputs["Certificate"])
    assert described["Certificate"]["Status"] == "ISSUED"
    route53 = aws("route53")
    for zone in route53.list_hosted_zones()["HostedZones"]:
        records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])
        assert all(domain not in r["Name"] for r in records["ResourceRecordSets"])
