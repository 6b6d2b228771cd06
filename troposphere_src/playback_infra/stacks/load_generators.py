"""The load-generators stack: Locust on Fargate, for game-night load tests against staging.

Deployed for a test and deleted after it (it costs nothing between runs: a cluster, a task
definition, a log group). Each task runs `load/locustfile.py` (embedded at synth, so what runs
is what the repository holds) with `--processes -1`: one Locust worker per vCPU under a master
in the same container. Several tasks (`aws ecs run-task --count N`) each bring their own
public address, which is what the edge WAF's per-IP rate limit needs to see; each simulates
`UsersPerTask` viewers of the game-night shape, so N tasks simulate N times that. The image is
Locust's own at the version requirements-load.txt pins. docs/load-testing.md has the commands.
"""

from __future__ import annotations

import base64

from awacs import logs
from awacs.aws import Allow, Statement
from troposphere import FindInMap, GetAtt, Output, Parameter, Ref, Template
from troposphere.ec2 import SecurityGroup, SecurityGroupRule
from troposphere.ecs import (
    Cluster,
    ClusterSetting,
    ContainerDefinition,
    Environment,
    MountPoint,
    RuntimePlatform,
    TaskDefinition,
    Volume,
)
from troposphere.logs import LogGroup

from playback_infra.parts.ecs import awslogs, task_role
from playback_infra.parts.iam import cloudwatch_logs_use, customer_key
from playback_infra.parts.template import new_template, tag_component
from playback_infra.paths import REPO_ROOT

COMPONENT = "load-test"
LOCUSTFILE = REPO_ROOT / "load" / "locustfile.py"
REQUIREMENTS = REPO_ROOT / "requirements-load.txt"
LOG_DAYS = 30
# Fargate's CPU units and the memory (MiB) each allows at least.
SIZES = {"1024": "2048", "2048": "4096", "4096": "8192", "8192": "16384", "16384": "32768"}


def locust_version() -> str:
    """The Locust version requirements-load.txt pins (the local runs use the same)."""
    for line in REQUIREMENTS.read_text().splitlines():
        if line.startswith("locust=="):
            return line.split("==", 1)[1].strip()
    raise ValueError(f"{REQUIREMENTS} pins no locust version")


def build() -> Template:
    t = new_template("load generators: Locust on Fargate for load tests against staging")
    target = t.add_parameter(
        Parameter(
            "TargetHost",
            Type="String",
            AllowedPattern=r"^https://[a-z0-9.-]+$",
            ConstraintDescription="the site's https:// URL, no path, like https://staging.playback.example.com",
        )
    )
    users = t.add_parameter(
        Parameter(
            "UsersPerTask",
            Type="Number",
            Default=500,
            MinValue=1,
            MaxValue=5000,
            Description="Viewers at the game-night peak, per task",
        )
    )
    cpu = t.add_parameter(
        Parameter(
            "TaskCpu",
            Type="String",
            Default="4096",
            AllowedValues=list(SIZES),
            Description="CPU units per task: one Locust worker per vCPU",
        )
    )
    vpc = t.add_parameter(
        Parameter("VpcId", Type="AWS::EC2::VPC::Id", Description="A VPC with public subnets")
    )
    t.add_mapping("Memory", {size: {"MiB": memory} for size, memory in SIZES.items()})
    cluster = t.add_resource(
        Cluster(
            "LoadCluster",
            ClusterName="baseball-playback-load",
            ClusterSettings=[ClusterSetting(Name="containerInsights", Value="enabled")],
        )
    )
    key = t.add_resource(
        customer_key("LoadLogsKey", "Baseball Playback: load-test logs", [cloudwatch_logs_use()])
    )
    # A tool's key, not an environment's: it goes with the stack (KMS waits 30 days first).
    key.DeletionPolicy = key.UpdateReplacePolicy = "Delete"
    log_group = t.add_resource(
        LogGroup("LoadLogGroup", RetentionInDays=LOG_DAYS, KmsKeyId=GetAtt(key, "Arn"))
    )
    group = t.add_resource(
        SecurityGroup(
            "LoadSecurityGroup",
            GroupDescription="Locust tasks: nothing comes in; HTTPS out to the site",
            VpcId=Ref(vpc),
            # Inline, so it replaces the default allow-all egress rule.
            SecurityGroupEgress=[
                SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=443,
                    ToPort=443,
                    CidrIp="0.0.0.0/0",
                    Description="the site through CloudFront, and the image registry",
                )
            ],
        )
    )
    execution = t.add_resource(
        task_role(
            "LoadExecutionRole",
            "Starts a Locust task: writes its log group (the image is public)",
            [
                Statement(
                    Effect=Allow,
                    Action=[logs.CreateLogStream, logs.PutLogEvents],
                    Resource=[GetAtt(log_group, "Arn")],
                )
            ],
        )
    )
    script = base64.b64encode(LOCUSTFILE.read_bytes()).decode()
    command = (
        'echo "$LOCUSTFILE_BASE64" | base64 -d > /tmp/locustfile.py && exec locust '
        '-f /tmp/locustfile.py --headless --processes -1 --host "$TARGET_HOST" --only-summary'
    )
    t.add_resource(
        TaskDefinition(
            "LoadTaskDefinition",
            Family="baseball-playback-load",
            Cpu=Ref(cpu),
            Memory=FindInMap("Memory", Ref(cpu), "MiB"),
            NetworkMode="awsvpc",
            RequiresCompatibilities=["FARGATE"],
            # Locust's public image, not built here: the platform docs/load-testing.md says to
            # confirm for a new pin.
            RuntimePlatform=RuntimePlatform(
                CpuArchitecture="X86_64", OperatingSystemFamily="LINUX"
            ),
            ExecutionRoleArn=GetAtt(execution, "Arn"),
            Volumes=[Volume(Name="tmp")],
            ContainerDefinitions=[
                ContainerDefinition(
                    Name="locust",
                    Image=f"locustio/locust:{locust_version()}",
                    Essential=True,
                    EntryPoint=["sh", "-c"],
                    Command=[command],
                    ReadonlyRootFilesystem=True,
                    MountPoints=[MountPoint(SourceVolume="tmp", ContainerPath="/tmp")],
                    Environment=[
                        Environment(Name="LOCUSTFILE_BASE64", Value=script),
                        Environment(Name="TARGET_HOST", Value=Ref(target)),
                        Environment(Name="PEAK_USERS", Value=Ref(users)),
                        Environment(Name="HOME", Value="/tmp"),
                    ],
                    LogConfiguration=awslogs(log_group, "locust"),
                )
            ],
        )
    )
    for title, value in (
        ("ClusterName", Ref(cluster)),
        ("TaskDefinitionArn", Ref("LoadTaskDefinition")),
        ("SecurityGroupId", GetAtt(group, "GroupId")),
        ("LogGroupName", Ref(log_group)),
    ):
        t.add_output(Output(title, Value=value))
    tag_component(t, COMPONENT)
    return t
