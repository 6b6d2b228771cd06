"""The emulator's Synthetics (emulator/synthetics_service.py): a canary deployed from a
template, its runs as a test records them and GetCanaryRuns lists them, and StopCanary."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from conftest import deploy, error_code

pytestmark = pytest.mark.emulator


def _canary(name: str) -> dict:
    return {
        "Resources": {
            "Canary": {
                "Type": "AWS::Synthetics::Canary",
                "Properties": {
                    "Name": name,
                    "Code": {"Handler": "index.handler", "Script": "exports.handler = 1"},
                    "ExecutionRoleArn": "arn:aws:iam::000000000000:role/canary",
                    "Schedule": {"Expression": "rate(5 minutes)"},
                    "RuntimeVersion": "syn-nodejs-puppeteer-9.1",
                    "ArtifactS3Location": "s3://artifacts/canary",
                    "StartCanaryAfterCreation": True,
                },
            }
        }
    }


def _record(endpoint: str, name: str, run: dict) -> int:
    request = urllib.request.Request(
        f"{endpoint}/_playback/synthetics/canaries/{name}/runs",
        data=json.dumps(run).encode(),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_recorded_runs_are_listed_newest_first(endpoint, cfn, aws):
    deploy(cfn, json.dumps(_canary("site")))
    synthetics = aws("synthetics")
    assert synthetics.get_canary_runs(Name="site")["CanaryRuns"] == []

    assert _record(endpoint, "site", {"State": "PASSED"}) == 200
    assert _record(endpoint, "site", {"State": "FAILED", "StateReason": "404 on /"}) == 200
    latest, first = synthetics.get_canary_runs(Name="site")["CanaryRuns"]
    assert latest["Status"] == {
        "State": "FAILED",
        "StateReason": "404 on /",
        "StateReasonCode": "CANARY_FAILURE",
    }
    assert first["Status"] == {"State": "PASSED"}
    assert latest["Timeline"]["Started"] >= first["Timeline"]["Started"]
    assert latest["ArtifactS3Location"].startswith("artifacts/canary/")

    assert _record(endpoint, "site", {"State": "RUNNING"}) == 400
    assert _record(endpoint, "no-such", {"State": "PASSED"}) == 404


def test_a_running_canary_stops_once(cfn, aws):
    deploy(cfn, json.dumps(_canary("stopping")))
    synthetics = aws("synthetics")
    synthetics.stop_canary(Name="stopping")
    assert synthetics.get_canary(Name="stopping")["Canary"]["Status"]["State"] == "STOPPED"
    assert error_code(synthetics.stop_canary, Name="stopping") == "ConflictException"
