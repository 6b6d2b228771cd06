"""The site canary (stacks/observability/site_canary.py) in the observability template, and its script run
with node against a stand-in site (tests/fake_site.py) and a stand-in Synthetics library."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from http.server import ThreadingHTTPServer

import pytest

from playback_infra.checks import iam as iam_checks
from playback_infra.stacks import observability
from playback_infra.stacks.observability import site_canary
from tests.fake_site import site_handler
from tests.stacks.helpers import props, ref


@pytest.fixture(scope="module")
def t() -> dict:
    return observability.build().to_dict()


def test_canary_runs_the_script_inline_on_the_current_runtime_on_the_models_schedule(t):
    canary = props(t, "SiteCanary")
    assert canary["Name"] == {"Fn::Sub": "${EnvironmentName}-site"}
    assert canary["RuntimeVersion"] == "syn-nodejs-puppeteer-15.0"
    assert canary["Code"] == {"Handler": "index.handler", "Script": site_canary.SCRIPT.read_text()}
    assert canary["Schedule"] == {"Expression": ref("CanarySchedule"), "DurationInSeconds": "0"}
    assert canary["StartCanaryAfterCreation"] is True
    assert canary["ProvisionedResourceCleanup"] == "AUTOMATIC"
    # 15 characters of environment name and "-site": within the 21 a canary name may have.
    pattern = t["Parameters"]["EnvironmentName"]["AllowedPattern"]
    assert pattern == r"^[a-z][a-z0-9-]{1,14}$" and len("x" * 15 + "-site") <= 21


def test_canary_checks_the_site_and_the_api_through_cloudfront(t):
    variables = props(t, "SiteCanary")["RunConfig"]["EnvironmentVariables"]
    assert variables == {
        "SITE_URL": {"Fn::Sub": "https://${SiteDomain}/"},
        "API_HEALTH_URL": {"Fn::Sub": "https://${SiteDomain}${ApiBasePath}/health"},
    }


@pytest.mark.parametrize(
    ("env", "schedule", "period"),
    [("dev", "rate(30 minutes)", "1800"), ("staging", "rate(15 minutes)", "900"),
     ("prod", "rate(5 minutes)", "300")],
)  # fmt: skip
def test_schedule_and_alarm_period_come_from_one_model_field(
    parameter_files, env, schedule, period
):
    given = parameter_files[env]["Parameters"]
    assert (given["CanarySchedule"], given["CanaryPeriodSeconds"]) == (schedule, period)


def test_alarm_pages_after_two_failed_or_missing_runs(t):
    alarm = props(t, "SiteCanaryAlarm")
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "CloudWatchSynthetics", "SuccessPercent", "Average",
    )  # fmt: skip
    assert alarm["Dimensions"] == [
        {"Name": "CanaryName", "Value": {"Fn::Sub": "${EnvironmentName}-site"}}
    ]
    assert alarm["Period"] == ref("CanaryPeriodSeconds")
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (2, 2)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (100, "LessThanThreshold")
    assert alarm["TreatMissingData"] == "breaching"  # a canary that stopped is an outage too
    assert alarm["AlarmActions"] == alarm["OKActions"] == [ref("AlarmTopicArn")]


@pytest.mark.parametrize(
    ("schedule", "accepted"),
    [("rate(1 minute)", True), ("rate(2 minutes)", True), ("rate(60 minutes)", True),
     ("rate(1 minutes)", False), ("rate(61 minutes)", False), ("rate(0 minutes)", False),
     ("rate(5 hours)", False), ("cron(0 * * * ? *)", False)],
)  # fmt: skip
def test_schedule_parameter_takes_only_what_the_model_writes(t, schedule, accepted):
    assert (
        bool(re.search(t["Parameters"]["CanarySchedule"]["AllowedPattern"], schedule)) is accepted
    )


def test_dashboard_leads_with_the_canary(t):
    body = json.loads(props(t, "Dashboard")["DashboardBody"]["Fn::Sub"])
    first = next(w for w in body["widgets"] if w["type"] == "metric")
    assert [m[:4] for m in first["properties"]["metrics"]] == [
        ["CloudWatchSynthetics", "SuccessPercent", "CanaryName", "${EnvironmentName}-site"],
        ["CloudWatchSynthetics", "Duration", "CanaryName", "${EnvironmentName}-site"],
    ]


def test_artifacts_bucket_is_private_encrypted_tls_only_expiring_and_kept_as_stateful_says(t):
    bucket = t["Resources"]["CanaryArtifactsBucket"]
    p = bucket["Properties"]
    assert p["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True,
        "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }  # fmt: skip
    (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": ref("DataKeyArn"),
    }  # fmt: skip
    (lifecycle,) = p["LifecycleConfiguration"]["Rules"]
    assert lifecycle["ExpirationInDays"] == site_canary.ARTIFACT_DAYS
    retain = {"Fn::If": ["RetainData", "Retain", "Delete"]}
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == retain
    assert t["Transform"] == "AWS::LanguageExtensions"
    (statement,) = props(t, "CanaryArtifactsBucketPolicy")["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Condition"]) == (
        "Deny", {"Bool": {"aws:SecureTransport": "false"}},
    )  # fmt: skip
    canary = props(t, "SiteCanary")
    assert canary["ArtifactS3Location"] == {"Fn::Sub": "s3://${CanaryArtifactsBucket}/canary"}
    assert canary["ArtifactConfig"] == {
        "S3Encryption": {"EncryptionMode": "SSE_KMS", "KmsKeyArn": ref("DataKeyArn")}
    }


def test_role_may_write_only_its_artifacts_and_synthetics_metrics(t):
    """No CloudWatch Logs: a log group Synthetics' Lambda made would never expire."""
    role = props(t, "SiteCanaryRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["lambda.amazonaws.com"]}
    (policy,) = role["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert {sid: (s["Action"], s["Resource"]) for sid, s in statements.items()} == {
        "Artifacts": (
            ["s3:PutObject", "s3:GetObject"],
            [{"Fn::Sub": "${CanaryArtifactsBucket.Arn}/canary/*"}],
        ),
        "ArtifactBucket": (
            ["s3:GetBucketLocation"], [{"Fn::GetAtt": ["CanaryArtifactsBucket", "Arn"]}],
        ),
        "ArtifactEncryption": (["kms:GenerateDataKey", "kms:Decrypt"], [ref("DataKeyArn")]),
        "Metrics": (["cloudwatch:PutMetricData"], ["*"]),
    }  # fmt: skip
    assert statements["Metrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}
    }
    assert statements["ArtifactEncryption"]["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}}
    }
    assert iam_checks.problems({"observability": t}) == []


# --- the script, run with node ----------------------------------------------------------------

# A stand-in for the runtime's @aws/synthetics-puppeteer: steps run and are recorded; the page
# is fetched over HTTP (the runtime drives Chromium), with Puppeteer's response interface.
FAKE_SYNTHETICS = """
const steps = [];
module.exports = {
  steps,
  async executeStep(name, fn) {
    try { const result = await fn(); steps.push([name, 'passed']); return result; }
    catch (error) { steps.push([name, 'failed']); throw error; }
  },
  async getPage() {
    return {
      async goto(url) {
        const answer = await fetch(url);
        await answer.text();
        return {status: () => answer.status, headers: () => Object.fromEntries(answer.headers)};
      },
    };
  },
};
"""
RUN = """
const synthetics = require('@aws/synthetics-puppeteer');
require('./index.js').handler().then(
  (result) => console.log(JSON.stringify({result, steps: synthetics.steps})),
  (error) => console.log(JSON.stringify({error: String(error.message), steps: synthetics.steps})));
"""


@pytest.fixture(scope="module")
def script_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("canary")
    (directory / "index.js").write_text(site_canary.SCRIPT.read_text())
    fake = directory / "node_modules" / "@aws" / "synthetics-puppeteer"
    fake.mkdir(parents=True)
    (fake / "index.js").write_text(FAKE_SYNTHETICS)
    return directory


def run_canary(
    script_dir, faults: set[str], site_path: str = "/", health_path: str = "/api/health"
):
    node = shutil.which("node")
    assert node, "node is needed to run the canary's script"
    server = ThreadingHTTPServer(("127.0.0.1", 0), site_handler(faults))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        done = subprocess.run(
            [node, "-e", RUN], cwd=script_dir, capture_output=True, text=True, timeout=60,
            check=True,
            env={"PATH": "/usr/bin:/bin", "SITE_URL": base + site_path,
                 "API_HEALTH_URL": base + health_path},
        )  # fmt: skip
    finally:
        server.shutdown()
    return json.loads(done.stdout)


def test_script_passes_when_the_site_and_the_api_answer(script_dir):
    assert run_canary(script_dir, set()) == {
        "result": "site and API health answered",
        "steps": [["load-site", "passed"], ["api-health", "passed"]],
    }


@pytest.mark.parametrize(
    ("faults", "site_path", "health_path", "steps", "message"),
    [
        (set(), "/missing.png", "/api/health", [["load-site", "failed"]], "answered 404, not 200"),
        ({"api-html"}, "/", "/api/health", [["load-site", "passed"], ["api-health", "failed"]],
         "answered text/html, not application/json"),
        (set(), "/", "/api/nothing", [["load-site", "passed"], ["api-health", "failed"]],
         "answered 404, not 200"),
        (set(), "/config.json", "/api/health", [["load-site", "failed"]],
         "answered application/json, not text/html"),
    ],
)  # fmt: skip
def test_script_fails_the_run_when_a_step_gets_the_wrong_answer(
    script_dir, faults, site_path, health_path, steps, message
):
    outcome = run_canary(script_dir, faults, site_path, health_path)
    assert outcome["steps"] == steps
    assert message in outcome["error"]


def test_script_fails_when_nothing_answers(script_dir):
    node = shutil.which("node")
    done = subprocess.run(
        [node, "-e", RUN], cwd=script_dir, capture_output=True, text=True, timeout=60, check=True,
        env={"PATH": "/usr/bin:/bin", "SITE_URL": "http://127.0.0.1:9/",
             "API_HEALTH_URL": "http://127.0.0.1:9/api/health"},
    )  # fmt: skip
    assert json.loads(done.stdout)["steps"] == [["load-site", "failed"]]
