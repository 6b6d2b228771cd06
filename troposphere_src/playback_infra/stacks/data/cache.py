"""The narration cache, part of the data stack: ElastiCache Serverless for Valkey, where the
environment enables it (`app.cache`).

The backend keeps OpenAI narrations here first and in the `narration_cache` table second
(keys and TTLs: docs/openai-integration.md). Serverless spans the private-app subnets' AZs,
always encrypts in transit (TLS only) and at rest (the data key), and is reachable only from
the app tasks' security group on its primary endpoint. Usage limits cap what it can cost. A
cache, not a store: nothing is lost that the table and OpenAI cannot give again, so it is
neither snapshotted nor retained.
"""

from __future__ import annotations

from troposphere import Equals, If, Ref, Sub, Template
from troposphere.elasticache import (
    CacheUsageLimits,
    DataStorage,
    ECPUPerSecond,
    ServerlessCache,
)

from playback_infra.parts import values

USE_CACHE = "UseCache"
VALKEY_MAJOR_VERSION = "8"
MAX_DATA_GB = 1  # about a million narrations of ~1 KB
MAX_ECPU_PER_SECOND = 5000


def add_cache(t: Template) -> None:
    values.consume(
        t,
        values.ENABLE_CACHE,
        values.CACHE_SECURITY_GROUP_ID,
        values.PRIVATE_APP_SUBNET_IDS,
        values.DATA_KEY_ARN,
        values.ENVIRONMENT_NAME,
        values.AZ_COUNT,
    )
    t.add_condition(USE_CACHE, Equals(Ref(values.ENABLE_CACHE), "true"))
    cache = t.add_resource(
        ServerlessCache(
            "NarrationCache",
            Condition=USE_CACHE,
            # The name must change with the subnets (a third AZ), which replace the cache:
            # CloudFormation cannot replace a resource whose name stays.
            ServerlessCacheName=Sub(
                f"baseball-playback-${{{values.ENVIRONMENT_NAME}}}-narration-${{{values.AZ_COUNT}}}az"
            ),
            Description="OpenAI narrations, in front of the narration_cache table",
            Engine="valkey",
            MajorEngineVersion=VALKEY_MAJOR_VERSION,
            KmsKeyId=Ref(values.DATA_KEY_ARN),
            SecurityGroupIds=[Ref(values.CACHE_SECURITY_GROUP_ID)],
            SubnetIds=Ref(values.PRIVATE_APP_SUBNET_IDS),
            CacheUsageLimits=CacheUsageLimits(
                DataStorage=DataStorage(Maximum=MAX_DATA_GB, Unit="GB"),
                ECPUPerSecond=ECPUPerSecond(Maximum=MAX_ECPU_PER_SECOND),
            ),
            SnapshotRetentionLimit=0,
        )
    )
    values.produce(
        t,
        values.CACHE_URL,
        If(
            USE_CACHE,
            Sub(f"rediss://${{{cache.title}.Endpoint.Address}}:${{{cache.title}.Endpoint.Port}}"),
            "",
        ),
    )
