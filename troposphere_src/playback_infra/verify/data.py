"""verify: the backups' copies to another region, and the serverless caches.

- backup copies: each backup plan rule's copy action names a vault in another region; the
  copy jobs are listed in the source region (ListCopyJobs:
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListCopyJobs.html) with their
  State (CREATED, RUNNING, COMPLETED, FAILED, PARTIAL) and StatusMessage
  (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CopyJob.html). The latest job to
  each destination of the last `COPY_WINDOW_HOURS` must have completed.
- cache: each serverless cache's Status is `available`
  (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_ServerlessCache.html);
  `create-failed` is how a cache its KMS key refuses ends.
"""

from __future__ import annotations

import datetime

from playback_infra.verify import Deployed, Result, failed, passed, skipped

COPIES, CACHE = "backup copies", "cache"
COPY_WINDOW_HOURS = 48  # the plans run daily: the last two days hold the last one or two copies


def copy_destinations(backup, deployed: Deployed) -> list[str]:
    """The vaults the environment's backup plans copy to (GetBackupPlan's CopyActions)."""
    return sorted(
        {
            action["DestinationBackupVaultArn"]
            for resource in deployed.of_type("AWS::Backup::BackupPlan")
            for rule in backup.get_backup_plan(BackupPlanId=resource.physical_id)["BackupPlan"][
                "Rules"
            ]
            for action in rule.get("CopyActions", [])
        }
    )


def copy_result(destination: str, jobs: list[dict], since: datetime.datetime) -> Result:
    """The verdict on the copies to `destination` from the copy jobs created after `since`."""
    region, vault = destination.split(":")[3], destination.split(":")[-1]
    subject = f"{vault} in {region}"
    mine = sorted(
        (j for j in jobs if j["DestinationBackupVaultArn"] == destination),
        key=lambda j: j["CreationDate"],
        reverse=True,
    )
    if not mine:
        return failed(
            COPIES,
            subject,
            f"no copy job since {since:%Y-%m-%d %H:%M %Z}",
            "the plan copies after each backup: look for failed backup jobs (aws backup "
            "list-backup-jobs --by-state FAILED); before the first scheduled backup, verify again after it",
        )
    latest = mine[0]
    others = sum(j["State"] in ("FAILED", "PARTIAL") for j in mine[1:])
    earlier = f" ({others} earlier failed)" if others else ""
    when = f"{latest['CreationDate']:%Y-%m-%d %H:%M %Z}"
    if latest["State"] == "COMPLETED":
        return passed(COPIES, subject, f"the latest copy job ({when}) completed{earlier}")
    if latest["State"] in ("FAILED", "PARTIAL"):
        return failed(
            COPIES,
            subject,
            f"the latest copy job ({when}) is {latest['State']}: {latest.get('StatusMessage') or 'no message'}",
            f"the copy region needs its vault (templates/dr-vault.yaml deployed in {region}) and its key "
            "must admit AWS Backup and RDS there; then the next scheduled copy, or aws backup start-copy-job, "
            "shows the fix",
        )
    return failed(
        COPIES,
        subject,
        f"the latest copy job ({when}) is still {latest['State']}{earlier}",
        "verify again once it finished (a copy of a database snapshot takes minutes to hours)",
    )


def backup_copies(deployed: Deployed) -> list[Result]:
    backup = deployed.client("backup")
    destinations = copy_destinations(backup, deployed)
    if not destinations:
        return [
            skipped(
                COPIES, deployed.env.name, "the environment copies no backups to another region"
            )
        ]
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=COPY_WINDOW_HOURS)
    jobs = [
        job
        for page in backup.get_paginator("list_copy_jobs").paginate(ByCreatedAfter=since)
        for job in page["CopyJobs"]
    ]
    return [copy_result(destination, jobs, since) for destination in destinations]


def cache_result(name: str, cache: dict | None) -> Result:
    if cache is None:
        return failed(
            CACHE,
            name,
            "the serverless cache does not exist",
            "deploy the environment again (its data stack creates the cache)",
        )
    status = cache["Status"]
    if status == "available":
        return passed(
            CACHE, name, f"available at {cache['Endpoint']['Address']}:{cache['Endpoint']['Port']}"
        )
    if status == "create-failed":
        return failed(
            CACHE,
            name,
            "create-failed",
            "ElastiCache could not create it: the most common cause is its KMS key, whose policy "
            "must let ElastiCache use it (docs/verify.md); fix it and deploy again",
        )
    return failed(
        CACHE, name, f"{status}, not available", "verify again once ElastiCache has finished"
    )


def caches(deployed: Deployed) -> list[Result]:
    resources = deployed.of_type("AWS::ElastiCache::ServerlessCache")
    if not resources:
        return [skipped(CACHE, deployed.env.name, "the environment has no serverless cache")]
    elasticache = deployed.client("elasticache")
    results = []
    for resource in resources:
        try:
            (cache,) = elasticache.describe_serverless_caches(
                ServerlessCacheName=resource.physical_id
            )["ServerlessCaches"]
        except elasticache.exceptions.ServerlessCacheNotFoundFault:
            cache = None
        results.append(cache_result(resource.physical_id, cache))
    return results
