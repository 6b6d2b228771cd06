"""verify: the canaries, the alarms and the account's trail.

- canary: each canary is RUNNING (GetCanary's Status:
  https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryStatus.html) and
  its latest finished run PASSED (GetCanaryRuns:
  https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_GetCanaryRuns.html,
  https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryRunStatus.html).
- alarms: none of the stacks' metric and composite alarms is in ALARM (DescribeAlarms by name,
  up to 100 a call: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html).
  The names come from the stacks' resources, not a name prefix: CloudFormation names them
  after their stack, and one environment's stack name may begin another's.
- trail: the account baseline's trail (its output CloudTrailName; else another multi-region
  trail, an organization's or another region's, whose shadow trails DescribeTrails shows:
  https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DescribeTrails.html) records
  every region (IsMultiRegionTrail), validates its log files (LogFileValidationEnabled:
  https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_Trail.html), is logging and
  has no delivery error (IsLogging, LatestDeliveryError:
  https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html).
"""

from __future__ import annotations

from playback_infra.deploy import described_stack
from playback_infra.verify import PASS, Deployed, Result, failed, passed, skipped

CANARY, ALARMS, TRAIL = "canary", "alarms", "trail"
TRAIL_OUTPUT = "CloudTrailName"
RECENT_RUNS = 20
ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
_NAMES_PER_CALL = 100


def canary_result(canary: dict, runs: list[dict], env: str) -> Result:
    """The verdict on one canary from GetCanary's and GetCanaryRuns' answers."""
    name, status = canary["Name"], canary["Status"]
    if status["State"] != "RUNNING":
        reason = f": {status['StateReason']}" if status.get("StateReason") else ""
        return failed(
            CANARY,
            name,
            f"the canary is {status['State']}{reason}",
            f"start it (aws synthetics start-canary --name {name}); the stack starts it when it creates it",
        )
    done = sorted(
        (r for r in runs if r["Status"]["State"] in ("PASSED", "FAILED")),
        key=lambda r: r["Timeline"]["Started"],
        reverse=True,
    )
    if not done:
        return failed(
            CANARY,
            name,
            "no finished run yet",
            f"its schedule is {canary['Schedule']['Expression']}: verify again after its first run",
        )
    latest, failures = done[0], sum(r["Status"]["State"] == "FAILED" for r in done)
    when = f"{latest['Timeline']['Started']:%Y-%m-%d %H:%M %Z}"
    if latest["Status"]["State"] == "PASSED":
        return passed(
            CANARY,
            name,
            f"the latest run ({when}) passed; {failures} of the last {len(done)} failed",
        )
    return failed(
        CANARY,
        name,
        f"the latest run ({when}) failed: {latest['Status'].get('StateReason', 'no reason given')}",
        f"playback-infra smoke --env {env} shows which check of the site fails from outside; the run's "
        f"screenshots and log are in s3://{latest.get('ArtifactS3Location', canary['ArtifactS3Location'])}",
    )


def canaries(deployed: Deployed) -> list[Result]:
    resources = deployed.of_type("AWS::Synthetics::Canary")
    if not resources:
        return [skipped(CANARY, deployed.env.name, "the environment has no canary")]
    synthetics = deployed.client("synthetics")
    return [
        canary_result(
            synthetics.get_canary(Name=r.physical_id)["Canary"],
            synthetics.get_canary_runs(Name=r.physical_id, MaxResults=RECENT_RUNS)["CanaryRuns"],
            deployed.env.name,
        )
        for r in resources
    ]


def alarms_results(env: str, names: dict[str, str], found: list[dict]) -> list[Result]:
    """The verdicts on the stacks' alarms: `names` maps each alarm's name to its logical id,
    `found` is DescribeAlarms' metric and composite alarms."""
    by_name = {a["AlarmName"]: a for a in found}
    results = [
        failed(ALARMS, names[n], "the alarm does not exist", "deploy the environment again")
        for n in sorted(set(names) - set(by_name))
    ]
    firing = sorted(
        (a for a in found if a["StateValue"] == "ALARM"),
        key=lambda a: names.get(a["AlarmName"], ""),
    )
    results += [
        failed(
            ALARMS,
            names.get(a["AlarmName"], a["AlarmName"]),
            f"in ALARM since {a['StateUpdatedTimestamp']:%Y-%m-%d %H:%M %Z}: {a.get('StateReason', '')}",
            a.get("AlarmDescription") or "docs/monitoring.md says what to check first",
        )
        for a in firing
    ]
    if not results:
        waiting = sum(a["StateValue"] == "INSUFFICIENT_DATA" for a in found)
        results.append(
            passed(
                ALARMS, env, f"none of {len(found)} alarms is in ALARM ({waiting} without data yet)"
            )
        )
    return results


def alarms(deployed: Deployed) -> list[Result]:
    names = {r.physical_id: r.logical_id for t in ALARM_TYPES for r in deployed.of_type(t)}
    if not names:
        return [skipped(ALARMS, deployed.env.name, "the environment has no alarm")]
    cloudwatch = deployed.client("cloudwatch")
    ordered = sorted(names)
    found = []
    for start in range(0, len(ordered), _NAMES_PER_CALL):
        pages = cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNames=ordered[start : start + _NAMES_PER_CALL],
            AlarmTypes=["MetricAlarm", "CompositeAlarm"],
        )
        for page in pages:
            found += page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])
    return alarms_results(deployed.env.name, names, found)


def trail_result(name: str, trail: dict | None, status: dict) -> Result:
    """The verdict on the account's trail from DescribeTrails' and GetTrailStatus' answers."""
    if trail is None:
        return failed(
            TRAIL,
            name,
            "the trail does not exist",
            "deploy the account baseline again (docs/security.md)",
        )
    problems = []
    if not trail.get("IsMultiRegionTrail"):
        problems.append("it records its own region only")
    if not trail.get("LogFileValidationEnabled"):
        problems.append("log file validation is off")
    if not status.get("IsLogging"):
        problems.append("it is not logging")
    if status.get("LatestDeliveryError"):
        problems.append(f"it cannot deliver its logs: {status['LatestDeliveryError']}")
    if problems:
        return failed(
            TRAIL,
            name,
            "; ".join(problems),
            f"start it (aws cloudtrail start-logging --name {name}) and deploy the account baseline again "
            "to restore its settings; a delivery error names the bucket or key policy that refuses CloudTrail",
        )
    return passed(
        TRAIL,
        name,
        f"logging every region into s3://{trail.get('S3BucketName', '?')}, log files validated",
    )


def trail(deployed: Deployed) -> list[Result]:
    """The baseline's trail (its output CloudTrailName); where the baseline makes none (a second
    region, an organization trail: docs/security.md), the multi-region trails DescribeTrails
    shows in the region, shadow trails of other regions and the organization's included, one
    of which must pass."""
    stack = described_stack(deployed.client("cloudformation"), deployed.baseline_stack)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}
    cloudtrail = deployed.client("cloudtrail")
    if TRAIL_OUTPUT in outputs:
        name = outputs[TRAIL_OUTPUT]
        trails = cloudtrail.describe_trails(trailNameList=[name])["trailList"]
        if not trails:
            return [trail_result(name, None, {})]
        return [
            trail_result(name, trails[0], cloudtrail.get_trail_status(Name=trails[0]["TrailARN"]))
        ]
    others = [t for t in cloudtrail.describe_trails()["trailList"] if t.get("IsMultiRegionTrail")]
    verdicts = [
        trail_result(t["Name"], t, cloudtrail.get_trail_status(Name=t["TrailARN"])) for t in others
    ]
    if any(v.status == PASS for v in verdicts):
        return [next(v for v in verdicts if v.status == PASS)]
    if verdicts:
        return verdicts
    why = "is not deployed" if stack is None else f"makes no trail (no output {TRAIL_OUTPUT})"
    return [
        failed(
            TRAIL,
            deployed.baseline_stack,
            f"no multi-region trail records {deployed.region}, and the stack {why}",
            f"deploy templates/account-baseline.yaml as {deployed.baseline_stack} with its trail "
            "(docs/security.md), or give --baseline-stack",
        )
    ]
