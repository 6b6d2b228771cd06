"""The app stack (stacks/app/): the backend's cluster, task definition, roles, service,
deployment alarms and autoscaling, as rendered, and what CloudFormation makes of it with each
environment's parameter file."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from playback_infra.checks import iam as iam_checks
from playback_infra.stacks import app, security
from tests.stacks.helpers import (
    deploy,
    getatt,
    props,
    ref,
    resources_of_type,
    root_provided_values_checked,
    with_parameters,
)
from tests.stacks.test_data import looks_like_a_secret

ENVIRONMENTS = ("dev", "staging", "prod")
RETAIN_IF = {"Fn::If": ["RetainData", "Retain", "Delete"]}
TOPIC = [ref("AlarmTopicArn")]
ACCOUNT_ID = {"Fn::Sub": "${AWS::AccountId}"}
REPOSITORY = "baseball-playback/backend"
IMAGE = {
    "Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/"
    f"{REPOSITORY}:${{ImageTag}}"
}
REPOSITORY_ARN = {
    "Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:"
    f"repository/{REPOSITORY}"
}
APP_SECRET = ref("DatabaseAppSecretArn")
OPENAI_SECRET = ref("OpenAiApiKeySecret")
DEPLOYMENT_ALARMS = (
    "ApiTarget5xxAlarm",
    "ApiUnhealthyHostsBlueAlarm",
    "ApiUnhealthyHostsGreenAlarm",
)
# Blue/green alternates the target group serving production: each is watched and scaled on.
TARGET_GROUPS = {
    "Blue": ref("ApiTargetGroupBlueFullName"),
    "Green": ref("ApiTargetGroupGreenFullName"),
}
LOAD_BALANCER = ref("ApiLoadBalancerFullName")
# The ADOT collector's ecs-xray.yaml receives OTLP over HTTP on 4318 (and gRPC on 4317).
OTLP_HTTP = "http://127.0.0.1:4318"
SSM_AGENT_PATHS = {"/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm"}
LOG_OPTIONS = {
    "awslogs-group": ref("AppLogGroup"),
    "awslogs-region": ref("AWS::Region"),
    "awslogs-stream-prefix": "backend",
    "mode": "non-blocking",
    "max-buffer-size": "4m",
}
PEAK = {"start": "cron(30 21 * * ? *)", "end": "cron(0 6 * * ? *)", "tasks": "6"}
EXPECTED = {  # what each environment's parameter file must give the app stack
    "dev": {
        "desired": "1",
        "min": "1",
        "max": "4",
        "spot": True,
        "strategy": "ROLLING",
        "cpu": "512",
        "memory": "1024",
        "log_days": "30",
        "retain": False,
        "peak": False,
    },
    "staging": {
        "desired": "2",
        "min": "2",
        "max": "6",
        "spot": False,
        "strategy": "ROLLING",
        "cpu": "512",
        "memory": "1024",
        "log_days": "90",
        "retain": True,
        "peak": False,
    },
    "prod": {
        "desired": "3",
        "min": "3",
        "max": "20",
        "spot": False,
        "strategy": "BLUE_GREEN",
        "cpu": "1024",
        "memory": "2048",
        "log_days": "365",
        "retain": True,
        "peak": True,
    },
}


@pytest.fixture(scope="module")
def template():
    return app.build()


@pytest.fixture(scope="module")
def t(template) -> dict:
    return template.to_dict()


@pytest.fixture(scope="module")
def live(t, parameter_files, as_deployed):
    """Environment -> what CloudFormation creates with its parameter file."""
    return {env: deploy(t, as_deployed, parameter_files[env]["Parameters"]) for env in ENVIRONMENTS}


@pytest.fixture(scope="module")
def variant(t, parameter_files, as_deployed):
    """`variant(env, **changes)`: what CloudFormation creates with an environment's parameter
    file with some values changed."""

    def deployed(env: str, **changes: str) -> dict:
        return deploy(t, as_deployed, {**parameter_files[env]["Parameters"], **changes})

    return deployed


# --- helpers ---------------------------------------------------------------------------------


def containers(resources: dict) -> dict[str, dict]:
    definitions = resources["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    names = [c["Name"] for c in definitions]
    assert len(names) == len(set(names)), names
    return {c["Name"]: c for c in definitions}


def environment(container: dict) -> dict:
    """A container's environment variables as a dict; a name given twice is refused."""
    names = [v["Name"] for v in container["Environment"]]
    assert len(names) == len(set(names)), names
    return {v["Name"]: v["Value"] for v in container["Environment"]}


def both_branches(t: dict) -> list[list[dict]]:
    """The container lists of the task definition, with and without the X-Ray sidecar."""
    definitions = props(t, "TaskDefinition")["ContainerDefinitions"]
    condition, with_xray, without_xray = definitions["Fn::If"]
    assert condition == "XRayOn"
    return [with_xray, without_xray]


def backends(t: dict) -> list[dict]:
    """The backend container in both branches: they must not differ but for the OTLP endpoint."""
    found = [next(c for c in branch if c["Name"] == "backend") for branch in both_branches(t)]
    assert len(found) == 2
    return found


def statements(t: dict, role: str) -> list[dict]:
    [policy] = props(t, role)["Policies"]
    assert policy["PolicyDocument"]["Version"] == "2012-10-17"
    return policy["PolicyDocument"]["Statement"]


def refs_in(node) -> set[str]:
    """Every name a Ref points to anywhere in a node."""
    if isinstance(node, dict):
        if list(node) == ["Ref"]:
            return {node["Ref"]}
        node = list(node.values())
    if isinstance(node, list):
        return set().union(set(), *map(refs_in, node))
    return set()


def policy_statements(t: dict):
    """(resource name, statement) for every statement of every policy document."""

    def documents(node):
        if isinstance(node, dict):
            if isinstance(node.get("Statement"), list):
                yield node
                return
            node = list(node.values())
        if isinstance(node, list):
            for item in node:
                yield from documents(item)

    for name, resource in t["Resources"].items():
        for document in documents(resource.get("Properties", {})):
            for statement in document["Statement"]:
                yield name, statement


def every_container(t: dict):
    for branch in both_branches(t):
        yield from branch


# --- template --------------------------------------------------------------------------------


def test_template_uses_language_extensions_and_its_conditions(t):
    assert t["Transform"] == "AWS::LanguageExtensions"  # Fn::If in DeletionPolicy needs it
    assert t["Conditions"] == {
        "RetainData": {"Fn::Equals": [ref("RetainStatefulResources"), "true"]},
        "BlueGreen": {"Fn::Equals": [ref("DeploymentStrategy"), "BLUE_GREEN"]},
        "UseSpot": {"Fn::Equals": [ref("UseFargateSpot"), "true"]},
        "XRayOn": {"Fn::Equals": [ref("EnableXRay"), "true"]},
        "EcsExecOn": {"Fn::Equals": [ref("EnableEcsExec"), "true"]},
        "HasPeak": {"Fn::Not": [{"Fn::Equals": [ref("PeakStart"), ""]}]},
        "TasksNeedPublicIp": {"Fn::Equals": [ref("NatMode"), "public-ips"]},
    }


def test_exactly_the_app_resources(t):
    assert {name: r["Type"] for name, r in t["Resources"].items()} == {
        "OpenAiApiKeySecret": "AWS::SecretsManager::Secret",
        "AppLogGroup": "AWS::Logs::LogGroup",
        "Cluster": "AWS::ECS::Cluster",
        "ClusterCapacityProviders": "AWS::ECS::ClusterCapacityProviderAssociations",
        "TaskExecutionRole": "AWS::IAM::Role",
        "TaskRole": "AWS::IAM::Role",
        "EcsExecPolicy": "AWS::IAM::Policy",
        "TaskDefinition": "AWS::ECS::TaskDefinition",
        "ApiTarget5xxAlarm": "AWS::CloudWatch::Alarm",
        "ApiUnhealthyHostsBlueAlarm": "AWS::CloudWatch::Alarm",
        "ApiUnhealthyHostsGreenAlarm": "AWS::CloudWatch::Alarm",
        "OpenAiErrorRateAlarm": "AWS::CloudWatch::Alarm",
        "OpenAiCircuitOpenAlarm": "AWS::CloudWatch::Alarm",
        "OpenAiDailyCostAlarm": "AWS::CloudWatch::Alarm",
        "KeyRedeployWorkflowRole": "AWS::IAM::Role",
        "KeyRedeployWorkflow": "AWS::StepFunctions::StateMachine",
        "KeyRedeployRuleRole": "AWS::IAM::Role",
        "KeyRedeployRule": "AWS::Events::Rule",
        "KeyRedeployFailedAlarm": "AWS::CloudWatch::Alarm",
        "BlueGreenInfrastructureRole": "AWS::IAM::Role",
        "Service": "AWS::ECS::Service",
        "ServiceScalableTarget": "AWS::ApplicationAutoScaling::ScalableTarget",
        "CpuScalingPolicy": "AWS::ApplicationAutoScaling::ScalingPolicy",
        "RequestsBlueScalingPolicy": "AWS::ApplicationAutoScaling::ScalingPolicy",
        "RequestsGreenScalingPolicy": "AWS::ApplicationAutoScaling::ScalingPolicy",
    }
    conditional = {n: r["Condition"] for n, r in t["Resources"].items() if "Condition" in r}
    assert conditional == {"EcsExecPolicy": "EcsExecOn", "BlueGreenInfrastructureRole": "BlueGreen"}


def test_every_root_provided_parameter_value_passes_the_stacks_constraints(t, parameter_files):
    # every environment gives the 26 root-provided parameters
    assert root_provided_values_checked(t, parameter_files) == 3 * 26


@pytest.mark.parametrize(
    ("tag", "accepted"),
    [
        ("bootstrap", True),
        ("3f9c2a1e7b4d", True),
        ("v1.4.2", True),
        ("release-2026_04", True),
        ("a" * 128, True),
        ("latest", False),  # mutable: what runs would depend on when the task started
        ("", False),
        ("-v1", False),
        (".v1", False),
        ("v1 2", False),
        ("v1:2", False),
        ("a" * 129, False),
    ],
)
def test_image_tag_parameter_refuses_latest_and_malformed_tags(t, tag, accepted):
    pattern = t["Parameters"]["ImageTag"]["AllowedPattern"]
    assert bool(re.search(pattern, tag)) is accepted


# --- cluster ---------------------------------------------------------------------------------


def test_cluster_has_enhanced_container_insights(t):
    p = props(t, "Cluster")
    assert p["ClusterName"] == {"Fn::Sub": "baseball-playback-${EnvironmentName}"}
    assert p["ClusterSettings"] == [{"Name": "containerInsights", "Value": "enhanced"}]


def test_cluster_records_ecs_exec_sessions_encrypted_in_the_app_log_group(t):
    # No KmsKeyId: the sessions' own encryption would need a key IAM principals may use, and
    # the log group is encrypted with the logs key already.
    assert props(t, "Cluster")["Configuration"] == {
        "ExecuteCommandConfiguration": {
            "Logging": "OVERRIDE",
            "LogConfiguration": {
                "CloudWatchLogGroupName": ref("AppLogGroup"),
                "CloudWatchEncryptionEnabled": True,
            },
        }
    }


def test_cluster_offers_fargate_and_fargate_spot_with_fargate_by_default(t):
    assert props(t, "ClusterCapacityProviders") == {
        "Cluster": ref("Cluster"),
        "CapacityProviders": ["FARGATE", "FARGATE_SPOT"],
        "DefaultCapacityProviderStrategy": [{"CapacityProvider": "FARGATE", "Weight": 1}],
    }


# --- task definition -------------------------------------------------------------------------


def test_task_definition_is_fargate_awsvpc_sized_by_the_parameters(t):
    p = props(t, "TaskDefinition")
    assert p["Family"] == {"Fn::Sub": "baseball-playback-${EnvironmentName}-backend"}
    assert p["RequiresCompatibilities"] == ["FARGATE"]
    assert p["NetworkMode"] == "awsvpc"
    assert p["Cpu"] == ref("AppCpu")
    assert p["Memory"] == ref("AppMemory")
    assert p["RuntimePlatform"] == {
        "CpuArchitecture": ref("AppArchitecture"),
        "OperatingSystemFamily": "LINUX",
    }
    assert p["ExecutionRoleArn"] == getatt("TaskExecutionRole", "Arn")
    assert p["TaskRoleArn"] == getatt("TaskRole", "Arn")
    assert p["Volumes"] == [{"Name": "tmp"}]  # task storage, writable, gone with the task


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_task_size_and_architecture_per_environment(live, env):
    p = live[env]["resources"]["TaskDefinition"]["Properties"]
    want = EXPECTED[env]
    assert (p["Cpu"], p["Memory"]) == (want["cpu"], want["memory"])
    assert p["RuntimePlatform"] == {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}


def test_backend_image_is_this_accounts_repository_by_tag(t):
    for backend in backends(t):
        assert backend["Image"] == IMAGE
        assert backend["Essential"] is True
    assert "latest" not in str(props(t, "TaskDefinition"))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_deploys_an_image_tag_the_parameter_accepts(t, parameter_files, env):
    tag = parameter_files[env]["Parameters"]["ImageTag"]
    assert tag == "bootstrap"  # until the backend pipeline deploys a release
    assert re.search(t["Parameters"]["ImageTag"]["AllowedPattern"], tag)


def test_backend_runs_as_a_non_root_user_on_a_read_only_root_with_a_writable_tmp(t):
    volumes = {v["Name"] for v in props(t, "TaskDefinition")["Volumes"]}
    for backend in backends(t):
        assert backend["User"] == "1000:1000"
        # Writable only while ECS Exec is switched on: its agent writes to the root filesystem.
        assert backend["ReadonlyRootFilesystem"] == {"Fn::If": ["EcsExecOn", False, True]}
        assert backend["MountPoints"] == [
            {"SourceVolume": "tmp", "ContainerPath": "/tmp", "ReadOnly": False}
        ]
        assert {m["SourceVolume"] for m in backend["MountPoints"]} <= volumes
        assert "Privileged" not in backend


def test_backend_listens_on_the_app_port(t):
    for backend in backends(t):
        assert backend["PortMappings"] == [{"ContainerPort": ref("AppPort"), "Protocol": "tcp"}]


def backend_environment(otel_endpoint: str) -> dict:
    return {
        "NODE_ENV": "production",
        "PORT": ref("AppPort"),
        "API_BASE_PATH": ref("ApiBasePath"),
        "FEATURE_FLAGS": ref("FeatureFlags"),
        "DB_HOST": ref("DatabaseEndpoint"),  # the data stack's output: the proxy where enabled
        "DB_PORT": ref("DatabasePort"),
        "DB_SSL": "true",
        "METRICS_NAMESPACE": "BaseballPlayback",
        "ENVIRONMENT_NAME": ref("EnvironmentName"),
        "CACHE_URL": ref("CacheUrl"),  # rediss:// of the narration cache, or empty
        "OTEL_EXPORTER_OTLP_ENDPOINT": otel_endpoint,
        # With the sidecar every trace goes to it: its tail sampler decides what X-Ray keeps.
        "OTEL_TRACES_SAMPLER": "parentbased_always_on" if otel_endpoint else "",
        "OTEL_SERVICE_NAME": {"Fn::Sub": "baseball-playback-${EnvironmentName}"},
    }


@pytest.mark.parametrize(("xray", "endpoint"), [("true", OTLP_HTTP), ("false", "")])
def test_backend_environment(variant, xray, endpoint):
    backend = containers(variant("prod", EnableXRay=xray)["resources"])["backend"]
    parameters = {
        "AppPort": "3000",
        "ApiBasePath": "/api",
        "FeatureFlags": "",
        "EnvironmentName": "prod",
    }
    # An empty OTEL_EXPORTER_OTLP_ENDPOINT counts as unset (OpenTelemetry SDK configuration).
    assert environment(backend) == with_parameters(backend_environment(endpoint), parameters)


def test_backend_secrets_come_from_secrets_manager(t):
    for backend in backends(t):
        assert backend["Secrets"] == [
            {
                "Name": "DB_USER",
                "ValueFrom": {"Fn::Sub": ["${Secret}:username::", {"Secret": APP_SECRET}]},
            },
            {
                "Name": "DB_PASSWORD",
                "ValueFrom": {"Fn::Sub": ["${Secret}:password::", {"Secret": APP_SECRET}]},
            },
            {"Name": "OPENAI_API_KEY", "ValueFrom": OPENAI_SECRET},
        ]


# The only parameters an environment variable may carry: none of them is a credential.
PLAIN_SETTINGS = {
    "CacheUrl",  # no credentials in it: the cache admits the app's security group, over TLS
    "AppPort",
    "ApiBasePath",
    "FeatureFlags",
    "DatabaseEndpoint",
    "DatabasePort",
    "EnvironmentName",
}


def test_no_secret_value_is_in_a_containers_environment(t):
    checked = 0
    for container in every_container(t):
        variables = container.get("Environment", [])
        secrets = {s["Name"] for s in container.get("Secrets", [])}
        for variable in variables:
            name, value = variable["Name"], variable["Value"]
            assert name not in secrets, name
            assert not re.search(r"(?i)passw|secret|token|api_?key|user", name), name
            assert refs_in(value) <= PLAIN_SETTINGS, name
            if isinstance(value, str):
                assert not looks_like_a_secret(value), name
            checked += 1
    # the backend's thirteen variables, with and without the sidecar, and the sidecar's config
    assert checked == 2 * 13 + 1
    assert "resolve:secretsmanager" not in str(props(t, "TaskDefinition"))


def test_backend_logs_to_the_app_log_group_without_blocking(t):
    for container in every_container(t):
        assert container["LogConfiguration"] == {"LogDriver": "awslogs", "Options": LOG_OPTIONS}


def test_backend_health_check_hits_the_api_base_path(t):
    for backend in backends(t):
        check = backend["HealthCheck"]
        assert (check["Interval"], check["Timeout"], check["Retries"], check["StartPeriod"]) == (
            15,
            5,
            3,
            20,
        )
        shell, command = check["Command"]
        assert shell == "CMD-SHELL"
        assert "http://127.0.0.1:'+process.env.PORT+process.env.API_BASE_PATH+'/health'" in (
            command
        )
        assert command.startswith("node -e ")  # node is in the image; curl and wget may not be


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_container_health_path_is_the_albs_health_check_path(live, parameter_files, env):
    backend = containers(live[env]["resources"])["backend"]
    alb_health_path = parameter_files[env]["Parameters"]["HealthCheckPath"]
    assert environment(backend)["API_BASE_PATH"] + "/health" == alb_health_path


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(type(self).status if self.path == "/api/health" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def health_server():
    handler = type("Health", (_Health,), {"status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def run_health_check(t: dict, port: int, base_path: str) -> int:
    _, command = backends(t)[0]["HealthCheck"]["Command"]
    env = {**os.environ, "PORT": str(port), "API_BASE_PATH": base_path}
    return subprocess.run(["sh", "-c", command], env=env, timeout=10, check=False).returncode


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the health check")
def test_health_check_command_passes_only_on_200_from_the_health_path(t, health_server):
    server, handler = health_server
    port = server.server_address[1]
    assert run_health_check(t, port, "/api") == 0
    assert run_health_check(t, port, "/v2") == 1  # 404: another base path
    handler.status = 503
    assert run_health_check(t, port, "/api") == 1
    server.shutdown()
    server.server_close()
    assert run_health_check(t, port, "/api") == 1  # nothing listening


def test_backend_has_an_init_process_and_a_stop_timeout(t):
    for backend in backends(t):
        assert backend["LinuxParameters"] == {"InitProcessEnabled": True}
        assert backend["StopTimeout"] == 30


def test_backend_is_the_same_with_and_without_the_sidecar_but_for_the_otlp_settings(t):
    with_xray, without_xray = backends(t)
    otlp = {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_SAMPLER"}

    def without_endpoint(container: dict) -> dict:
        return {
            **container,
            "Environment": [v for v in container["Environment"] if v["Name"] not in otlp],
        }

    assert without_endpoint(with_xray) == without_endpoint(without_xray)
    assert with_xray != without_xray


@pytest.mark.parametrize("xray", [True, False], ids=["xray", "no-xray"])
def test_adot_sidecar_runs_only_with_xray(variant, xray):
    running = containers(variant("prod", EnableXRay=str(xray).lower())["resources"])
    assert set(running) == ({"backend", "adot-collector"} if xray else {"backend"})
    endpoint = environment(running["backend"])["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert endpoint == (OTLP_HTTP if xray else "")


def test_adot_sidecar_is_pinned_non_essential_read_only_and_non_root(t):
    with_xray, _ = both_branches(t)
    [sidecar] = [c for c in with_xray if c["Name"] == "adot-collector"]
    assert sidecar == {
        "Name": "adot-collector",
        "Image": "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3",
        "Essential": False,  # tracing never takes the backend down
        "User": "10001",
        "ReadonlyRootFilesystem": True,
        "Environment": [
            {"Name": "AOT_CONFIG_CONTENT", "Value": {"Fn::Sub": app.ADOT_CONFIG.read_text()}}
        ],
        "LogConfiguration": {"LogDriver": "awslogs", "Options": LOG_OPTIONS},
    }
    assert re.fullmatch(r".+:v\d+\.\d+\.\d+", sidecar["Image"])  # a version, never latest


def collector_config(t: dict, percent: str) -> dict:
    """The sidecar's collector configuration as the collector reads it, for a sampling share."""
    with_xray, _ = both_branches(t)
    [sidecar] = [c for c in with_xray if c["Name"] == "adot-collector"]
    [content] = [v["Value"]["Fn::Sub"] for v in sidecar["Environment"]]
    assert set(re.findall(r"\$\{([^}]+)\}", content)) == {"TraceSamplingPercent"}
    assert t["Parameters"]["TraceSamplingPercent"]["Type"] == "Number"
    return yaml.safe_load(content.replace("${TraceSamplingPercent}", percent))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_sidecar_keeps_every_error_trace_and_the_environments_share(t, parameter_files, env):
    percent = parameter_files[env]["Parameters"]["TraceSamplingPercent"]
    config = collector_config(t, percent)
    sampler = config["processors"]["tail_sampling"]
    policies = {p["name"]: p for p in sampler["policies"]}
    # The tail sampler keeps a trace when any policy keeps it.
    assert policies["errors"] == {
        "name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]},
    }  # fmt: skip
    for name, key in (
        ("server-errors", "http.response.status_code"),
        ("server-errors-before-semconv-1.21", "http.status_code"),
    ):
        assert policies[name]["numeric_attribute"] == {
            "key": key, "min_value": 500, "max_value": 599,
        }  # fmt: skip
    assert policies["environment-share"]["probabilistic"] == {
        "sampling_percentage": {"dev": 50, "staging": 20, "prod": 5}[env]
    }
    assert set(policies) == {
        "errors", "server-errors", "server-errors-before-semconv-1.21", "environment-share",
    }  # fmt: skip


def test_sidecar_decides_on_whole_traces_before_batching_and_exports_to_xray(t):
    config = collector_config(t, "5")
    [pipeline] = config["service"]["pipelines"].values()
    assert pipeline == {
        "receivers": ["otlp"],
        # a batch before the tail sampler could split a trace's spans (ADOT's sampling guide)
        "processors": ["memory_limiter", "tail_sampling", "batch/traces"],
        "exporters": ["awsxray"],
    }
    # The backend exports OTLP over HTTP to the sidecar's loopback port, nothing else listens.
    assert config["receivers"] == {"otlp": {"protocols": {"http": {"endpoint": "127.0.0.1:4318"}}}}
    assert OTLP_HTTP.endswith(":4318")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_traces_through_the_sidecar(live, env):
    running = containers(live[env]["resources"])
    assert list(running) == ["backend", "adot-collector"]
    assert environment(running["backend"])["OTEL_EXPORTER_OTLP_ENDPOINT"] == OTLP_HTTP


# --- roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["TaskExecutionRole", "TaskRole"])
def test_task_roles_trust_only_ecs_tasks_of_this_account(t, role):
    p = props(t, role)
    assert p["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["ecs-tasks.amazonaws.com"]},
                "Action": ["sts:AssumeRole"],
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": {
                            "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*"
                        }
                    },
                },
            }
        ],
    }
    assert "ManagedPolicyArns" not in p
    assert [policy["PolicyName"] for policy in p["Policies"]] == ["least-privilege"]


def test_execution_role_pulls_the_image_writes_logs_and_reads_the_two_secrets(t):
    assert statements(t, "TaskExecutionRole") == [
        {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]},
        {
            "Effect": "Allow",
            "Action": [
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchCheckLayerAvailability",
            ],
            "Resource": [REPOSITORY_ARN],
        },
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [getatt("AppLogGroup", "Arn")],
        },
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [APP_SECRET, OPENAI_SECRET],
        },
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [ref("DataKeyArn")],
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}
                }
            },
        },
    ]


def test_execution_role_reads_exactly_the_secrets_the_backend_injects(t):
    [read] = [
        s
        for s in statements(t, "TaskExecutionRole")
        if "secretsmanager:GetSecretValue" in s["Action"]
    ]

    def secret_of(value_from):
        return value_from["Fn::Sub"][1]["Secret"] if "Fn::Sub" in value_from else value_from

    for backend in backends(t):
        injected = [secret_of(s["ValueFrom"]) for s in backend["Secrets"]]
        assert sorted(map(str, read["Resource"])) == sorted({str(s) for s in injected})


def test_execution_role_pulls_from_the_repository_the_image_names(t):
    [pull] = [s for s in statements(t, "TaskExecutionRole") if "ecr:BatchGetImage" in s["Action"]]
    repository_arn = pull["Resource"][0]["Fn::Sub"]
    image = backends(t)[0]["Image"]["Fn::Sub"]
    assert repository_arn.endswith(f":repository/{REPOSITORY}")
    assert image.split("/", 1)[1].rsplit(":", 1)[0] == REPOSITORY


def test_task_role_reads_game_data_and_writes_traces_and_its_own_metrics_only(t):
    assert statements(t, "TaskRole") == [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [{"Fn::Sub": ["${Bucket}/*", {"Bucket": ref("GameDataBucketArn")}]}],
        },
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [ref("GameDataBucketArn")]},
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [ref("DataKeyArn")],
            "Condition": {
                "StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}}
            },
        },
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
            ],
            "Resource": ["*"],
        },
        {
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": ["*"],
            "Condition": {"StringEquals": {"cloudwatch:namespace": "BaseballPlayback"}},
        },
    ]
    # The backend publishes into the namespace its role may write to.
    for backend in backends(t):
        assert environment(backend)["METRICS_NAMESPACE"] == "BaseballPlayback"


def test_ecs_exec_permissions_are_only_in_the_conditional_policy(t):
    resource = t["Resources"]["EcsExecPolicy"]
    assert resource["Condition"] == "EcsExecOn"
    p = resource["Properties"]
    assert p["PolicyName"] == "ecs-exec"
    assert p["Roles"] == [ref("TaskRole")]
    # The Session Manager channels, and the session log in the app log group: no key use.
    assert p["PolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                "Resource": ["*"],
            },
            {
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                "Resource": [getatt("AppLogGroup", "Arn")],
            },
        ],
    }
    for role in ("TaskRole", "TaskExecutionRole"):
        assert "ssmmessages" not in str(props(t, role)), role
    assert props(t, "Service")["EnableExecuteCommand"] == {"Fn::If": ["EcsExecOn", True, False]}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_ecs_exec_is_off_in_every_environment(live, parameter_files, env):
    assert parameter_files[env]["Parameters"]["EnableEcsExec"] == "false"
    resources = live[env]["resources"]
    assert "EcsExecPolicy" not in resources
    assert resources["Service"]["Properties"]["EnableExecuteCommand"] is False
    # With exec off nothing needs to write to the backend's root filesystem.
    assert containers(resources)["backend"]["ReadonlyRootFilesystem"] is True


def test_ecs_exec_when_switched_on_adds_the_policy_and_the_flag(variant):
    resources = variant("dev", EnableEcsExec="true")["resources"]
    assert "EcsExecPolicy" in resources
    assert resources["Service"]["Properties"]["EnableExecuteCommand"] is True


def test_ecs_exec_can_start_its_agent_in_the_backend_when_switched_on(variant):
    # ECS Exec's SSM agent writes to the container's filesystem (/managed-agents,
    # /var/lib/amazon/ssm, /var/log/amazon/ssm); AWS does not support it on a read-only root.
    backend = containers(variant("dev", EnableEcsExec="true")["resources"])["backend"]
    assert backend["ReadonlyRootFilesystem"] is False
    writable = {m["ContainerPath"] for m in backend["MountPoints"] if not m["ReadOnly"]}
    assert writable == {"/tmp"}  # the agent's paths are on the root, not extra mounts
    assert not writable & SSM_AGENT_PATHS
    # Only the backend opens up: the sidecar is never exec'd into and stays read-only.
    sidecar = containers(variant("dev", EnableEcsExec="true")["resources"])["adot-collector"]
    assert sidecar["ReadonlyRootFilesystem"] is True


def test_ecs_exec_sessions_need_no_key_iam_principals_cannot_use(t):
    """The logs key lets only the CloudWatch services use it, so the sessions are not
    encrypted with it (KmsKeyId) and no role is given kms actions for exec: the session log is
    encrypted by its log group, which CloudWatch Logs encrypts with that key."""
    execute = props(t, "Cluster")["Configuration"]["ExecuteCommandConfiguration"]
    assert "KmsKeyId" not in execute
    assert execute["LogConfiguration"]["CloudWatchLogGroupName"] == ref("AppLogGroup")
    assert props(t, "AppLogGroup")["KmsKeyId"] == ref("LogsKeyArn")
    key_policy = props(security.build().to_dict(), "LogsKey")["KeyPolicy"]
    usable_by_iam = [
        s
        for s in key_policy["Statement"]
        if s["Effect"] == "Allow"
        and "AWS" in s.get("Principal", {})
        and {"kms:Decrypt", "kms:GenerateDataKey"} & set(s["Action"])
    ]
    assert usable_by_iam == []  # unchanged: a KmsKeyId here would break every session
    exec_policy = props(t, "EcsExecPolicy")["PolicyDocument"]["Statement"]
    assert [a for s in exec_policy for a in s["Action"] if a.startswith("kms:")] == []


def test_policies_pass_the_least_privilege_check_and_use_star_only_where_aws_has_no_scope(t):
    assert iam_checks.problems({"app": t}) == []
    starred = []
    for name, statement in policy_statements(t):
        if "*" in statement.get("Resource", []):
            starred.append(name)
            assert set(statement["Action"]) <= set(iam_checks.UNSCOPED_ACTIONS), name
    # ECR's token, X-Ray, PutMetricData, the Session Manager channels: and nothing else.
    assert sorted(starred) == ["EcsExecPolicy", "TaskExecutionRole", "TaskRole", "TaskRole"]


def test_blue_green_infrastructure_role_lets_ecs_move_the_listener_rules(t):
    """ECS's trust policy for an infrastructure role has no source condition
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/infrastructure_IAM_role.html):
    none is added, since one ECS may not send would fail every deployment."""
    resource = t["Resources"]["BlueGreenInfrastructureRole"]
    assert resource["Condition"] == "BlueGreen"
    p = resource["Properties"]
    assert p["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["ecs.amazonaws.com"]},
            "Action": ["sts:AssumeRole"],
        }
    ]
    assert p["ManagedPolicyArns"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/"
            "AmazonECSInfrastructureRolePolicyForLoadBalancers"
        }
    ]
    assert "Policies" not in p


# --- service ---------------------------------------------------------------------------------


def test_service_runs_the_task_in_the_private_app_subnets_public_ips_only_without_nat(t):
    resource = t["Resources"]["Service"]
    p = resource["Properties"]
    assert p["Cluster"] == ref("Cluster")
    assert p["ServiceName"] == {"Fn::Sub": "baseball-playback-${EnvironmentName}-backend"}
    assert p["TaskDefinition"] == ref("TaskDefinition")
    assert p["DesiredCount"] == ref("AppDesiredTasks")
    assert p["PlatformVersion"] == "LATEST"
    assert p["NetworkConfiguration"] == {
        "AwsvpcConfiguration": {
            "Subnets": ref("PrivateAppSubnetIds"),
            "SecurityGroups": [ref("AppSecurityGroupId")],
            # NatMode public-ips (dev): the app tier routes to the internet gateway
            "AssignPublicIp": {"Fn::If": ["TasksNeedPublicIp", "ENABLED", "DISABLED"]},
        }
    }
    assert "PublicSubnetIds" not in t["Parameters"]
    assert p["HealthCheckGracePeriodSeconds"] == 30
    assert p["PropagateTags"] == "SERVICE"
    assert p["EnableECSManagedTags"] is True
    # A capacity provider strategy needs the providers associated with the cluster first.
    assert resource["DependsOn"] == ["ClusterCapacityProviders"]


def test_service_registers_the_backend_on_the_app_port_in_the_blue_target_group(t):
    [load_balancer] = props(t, "Service")["LoadBalancers"]
    assert load_balancer["ContainerName"] == "backend"
    assert load_balancer["ContainerPort"] == ref("AppPort")
    assert load_balancer["TargetGroupArn"] == ref("ApiTargetGroupBlueArn")
    assert load_balancer["ContainerName"] in {c["Name"] for c in backends(t)}


@pytest.mark.parametrize(("spot", "provider"), [("true", "FARGATE_SPOT"), ("false", "FARGATE")])
def test_capacity_provider_follows_use_spot(variant, spot, provider):
    p = variant("staging", UseFargateSpot=spot)["resources"]["Service"]["Properties"]
    assert p["CapacityProviderStrategy"] == [{"CapacityProvider": provider, "Weight": 1}]
    assert "LaunchType" not in p  # a launch type would override the strategy


@pytest.mark.parametrize(("strategy", "advanced"), [("BLUE_GREEN", True), ("ROLLING", False)])
def test_advanced_configuration_only_with_blue_green(variant, strategy, advanced):
    resources = variant("prod", DeploymentStrategy=strategy)["resources"]
    [load_balancer] = resources["Service"]["Properties"]["LoadBalancers"]
    expected = {
        "ContainerName": "backend",
        "ContainerPort": "3000",
        "TargetGroupArn": ref("ApiTargetGroupBlueArn"),
    }
    if advanced:
        expected["AdvancedConfiguration"] = {
            "AlternateTargetGroupArn": ref("ApiTargetGroupGreenArn"),
            "ProductionListenerRule": ref("ApiProductionListenerRuleArn"),
            "TestListenerRule": ref("ApiTestListenerRuleArn"),
            "RoleArn": getatt("BlueGreenInfrastructureRole", "Arn"),
        }
    assert load_balancer == expected
    assert ("BlueGreenInfrastructureRole" in resources) is advanced


def test_deployment_configuration(t):
    assert props(t, "Service")["DeploymentConfiguration"] == {
        "Strategy": ref("DeploymentStrategy"),
        "BakeTimeInMinutes": {"Fn::If": ["BlueGreen", ref("BakeMinutes"), ref("AWS::NoValue")]},
        "MaximumPercent": 200,
        "MinimumHealthyPercent": 100,
        "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
        "Alarms": {
            "AlarmNames": [ref(alarm) for alarm in DEPLOYMENT_ALARMS],
            "Enable": True,
            "Rollback": True,
        },
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_service_per_environment(live, env):
    want = EXPECTED[env]
    p = live[env]["resources"]["Service"]["Properties"]
    assert p["DesiredCount"] == want["desired"]
    provider = "FARGATE_SPOT" if want["spot"] else "FARGATE"
    assert p["CapacityProviderStrategy"] == [{"CapacityProvider": provider, "Weight": 1}]
    deployment = p["DeploymentConfiguration"]
    assert deployment["Strategy"] == want["strategy"]
    if want["strategy"] == "BLUE_GREEN":
        assert deployment["BakeTimeInMinutes"] == "5"
        assert "AdvancedConfiguration" in p["LoadBalancers"][0]
    else:
        assert "BakeTimeInMinutes" not in deployment
        assert "AdvancedConfiguration" not in p["LoadBalancers"][0]
    assert deployment["Alarms"]["AlarmNames"] == [ref(a) for a in DEPLOYMENT_ALARMS]
    assert p["EnableExecuteCommand"] is False


# --- deployment alarms -----------------------------------------------------------------------


def target_group(colour: str) -> dict:
    return {"Name": "TargetGroup", "Value": TARGET_GROUPS[colour]}


ALB = {"Name": "LoadBalancer", "Value": LOAD_BALANCER}
ALARMS = {  # title -> metric, statistic, threshold, dimensions
    # 5xx over the whole ALB: it counts the tasks of whichever target group serves.
    "ApiTarget5xxAlarm": ("HTTPCode_Target_5XX_Count", "Sum", 10, [ALB]),
    # CloudWatch counts unhealthy hosts per target group only: one alarm for each colour.
    "ApiUnhealthyHostsBlueAlarm": (
        "UnHealthyHostCount", "Maximum", 1, [ALB, target_group("Blue")]),
    "ApiUnhealthyHostsGreenAlarm": (
        "UnHealthyHostCount", "Maximum", 1, [ALB, target_group("Green")]),
}  # fmt: skip


def test_exactly_the_deployment_alarms(t):
    alarms = set(resources_of_type(t, "AWS::CloudWatch::Alarm"))
    others = {a for a in alarms if a.startswith(("OpenAi", "KeyRedeploy"))}
    assert alarms - others == set(DEPLOYMENT_ALARMS)
    assert set(ALARMS) == set(DEPLOYMENT_ALARMS)


@pytest.mark.parametrize(("title", "spec"), ALARMS.items())
def test_deployment_alarm(t, title, spec):
    metric, statistic, threshold, dimensions = spec
    p = props(t, title)
    assert p["Namespace"] == "AWS/ApplicationELB"
    assert p["MetricName"] == metric
    assert p["Dimensions"] == dimensions
    assert p["Statistic"] == statistic
    assert p["Threshold"] == threshold
    assert p["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert (p["Period"], p["EvaluationPeriods"], p["DatapointsToAlarm"]) == (60, 3, 2)
    assert p["TreatMissingData"] == "notBreaching"
    assert p["AlarmActions"] == TOPIC
    assert p["OKActions"] == TOPIC
    assert "check" in p["AlarmDescription"].lower()  # says what to look at first
    assert "logs" in p["AlarmDescription"]


@pytest.mark.parametrize("colour", TARGET_GROUPS)
def test_unhealthy_hosts_alarm_names_its_target_group(t, colour):
    description = props(t, f"ApiUnhealthyHosts{colour}Alarm")["AlarmDescription"]
    assert f"in the {colour.lower()} target group" in description


def test_alarm_descriptions_are_distinct(t):
    descriptions = [props(t, a)["AlarmDescription"] for a in DEPLOYMENT_ALARMS]
    assert len(set(descriptions)) == len(descriptions)


def test_deployment_alarms_watch_the_tasks_serving_production_under_blue_green(live):
    """ECS blue/green registers the new revision in the other target group and leaves
    production there after the shift: the rollback alarms watch blue and green alike."""
    resources = live["prod"]["resources"]
    deployment = resources["Service"]["Properties"]["DeploymentConfiguration"]
    assert deployment["Strategy"] == "BLUE_GREEN"
    assert deployment["Alarms"] == {
        "AlarmNames": [ref(alarm) for alarm in DEPLOYMENT_ALARMS],
        "Enable": True,
        "Rollback": True,
    }
    watched = {}
    for alarm in DEPLOYMENT_ALARMS:
        dimensions = {d["Name"]: d["Value"] for d in resources[alarm]["Properties"]["Dimensions"]}
        assert dimensions.pop("LoadBalancer") == LOAD_BALANCER, alarm
        watched[alarm] = dimensions
    assert watched == {
        "ApiTarget5xxAlarm": {},  # the whole ALB: whichever colour serves
        "ApiUnhealthyHostsBlueAlarm": {"TargetGroup": ref("ApiTargetGroupBlueFullName")},
        "ApiUnhealthyHostsGreenAlarm": {"TargetGroup": ref("ApiTargetGroupGreenFullName")},
    }


# --- scaling ---------------------------------------------------------------------------------


def test_scalable_target_is_the_services_desired_count(t):
    p = props(t, "ServiceScalableTarget")
    assert p["ServiceNamespace"] == "ecs"
    assert p["ScalableDimension"] == "ecs:service:DesiredCount"
    assert p["ResourceId"] == {
        "Fn::Join": ["/", ["service", ref("Cluster"), getatt("Service", "Name")]]
    }
    assert p["MinCapacity"] == ref("AppMinTasks")
    assert p["MaxCapacity"] == ref("AppMaxTasks")


def test_cpu_target_tracking(t):
    assert props(t, "CpuScalingPolicy") == {
        "PolicyName": "cpu",
        "PolicyType": "TargetTrackingScaling",
        "ScalingTargetId": ref("ServiceScalableTarget"),
        "TargetTrackingScalingPolicyConfiguration": {
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
            "TargetValue": ref("CpuTargetPercent"),
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
        },
    }


@pytest.mark.parametrize("colour", TARGET_GROUPS)
def test_requests_per_task_target_tracking(t, colour):
    assert props(t, f"Requests{colour}ScalingPolicy") == {
        "PolicyName": f"alb-requests-per-task-{colour.lower()}",
        "PolicyType": "TargetTrackingScaling",
        "ScalingTargetId": ref("ServiceScalableTarget"),
        "TargetTrackingScalingPolicyConfiguration": {
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ALBRequestCountPerTarget",
                # "<load balancer full name>/<target group full name>"
                "ResourceLabel": {"Fn::Join": ["/", [LOAD_BALANCER, TARGET_GROUPS[colour]]]},
            },
            "TargetValue": ref("RequestsPerTaskTarget"),
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
        },
    }


def test_request_scaling_follows_the_target_group_serving_production_under_blue_green(live):
    """After a blue/green deployment production may be in either target group: a policy for
    each, so one always scales on the serving one (target tracking scales out when any policy
    asks, in only when all agree)."""
    resources = live["prod"]["resources"]
    policies = resources_of_type(
        {"Resources": resources}, "AWS::ApplicationAutoScaling::ScalingPolicy"
    )
    assert set(policies) == {
        "CpuScalingPolicy",
        "RequestsBlueScalingPolicy",
        "RequestsGreenScalingPolicy",
    }
    labels = {}
    for colour in TARGET_GROUPS:
        p = policies[f"Requests{colour}ScalingPolicy"]["Properties"]
        assert p["ScalingTargetId"] == ref("ServiceScalableTarget")
        tracking = p["TargetTrackingScalingPolicyConfiguration"]
        assert tracking["TargetValue"] == "200"
        labels[colour] = tracking["PredefinedMetricSpecification"]["ResourceLabel"]
    assert labels == {
        "Blue": {"Fn::Join": ["/", [LOAD_BALANCER, ref("ApiTargetGroupBlueFullName")]]},
        "Green": {"Fn::Join": ["/", [LOAD_BALANCER, ref("ApiTargetGroupGreenFullName")]]},
    }


def peak_actions(max_tasks: str, min_tasks: str) -> list[dict]:
    return [
        {
            "ScheduledActionName": "game-peak-start",
            "Schedule": PEAK["start"],
            "ScalableTargetAction": {"MinCapacity": PEAK["tasks"], "MaxCapacity": max_tasks},
        },
        {
            "ScheduledActionName": "game-peak-end",
            "Schedule": PEAK["end"],
            "ScalableTargetAction": {"MinCapacity": min_tasks, "MaxCapacity": max_tasks},
        },
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_scaling_per_environment(live, parameter_files, env):
    want = EXPECTED[env]
    resources = live[env]["resources"]
    target = resources["ServiceScalableTarget"]["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (want["min"], want["max"])
    assert int(want["min"]) <= int(want["desired"]) <= int(want["max"])
    given = parameter_files[env]["Parameters"]
    assert given["CpuTargetPercent"] == "60"
    assert given["RequestsPerTaskTarget"] == "200"
    cpu = resources["CpuScalingPolicy"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert cpu["TargetValue"] == "60"
    for colour in TARGET_GROUPS:  # every environment scales on both target groups
        requests = resources[f"Requests{colour}ScalingPolicy"]["Properties"]
        assert requests["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == "200"
    if want["peak"]:
        # 21:30-06:00 UTC: US evening first pitches, about 17:30-02:00 Eastern.
        assert target["ScheduledActions"] == peak_actions(want["max"], want["min"])
        assert int(want["min"]) <= int(PEAK["tasks"]) <= int(want["max"])
    else:
        assert "ScheduledActions" not in target
        assert given["PeakStart"] == given["PeakEnd"] == ""


def test_scheduled_peak_follows_has_peak(variant):
    peakless = variant("prod", PeakStart="", PeakEnd="")
    assert peakless["conditions"]["HasPeak"] is False
    assert "ScheduledActions" not in peakless["resources"]["ServiceScalableTarget"]["Properties"]
    peaked = variant("staging", PeakStart=PEAK["start"], PeakEnd=PEAK["end"], PeakMinTasks="6")
    target = peaked["resources"]["ServiceScalableTarget"]["Properties"]
    assert target["ScheduledActions"] == peak_actions("6", "2")


# --- secret and log group --------------------------------------------------------------------


def test_openai_secret_is_a_generated_stand_in_with_the_data_key(t):
    resource = t["Resources"]["OpenAiApiKeySecret"]
    p = resource["Properties"]
    assert p["KmsKeyId"] == ref("DataKeyArn")
    assert p["GenerateSecretString"] == {"PasswordLength": 32, "ExcludePunctuation": True}
    assert "SecretString" not in p  # the real key never passes through a template
    description = p["Description"]["Fn::Sub"]
    assert description.startswith("Baseball Playback ${EnvironmentName}: OpenAI API key.")
    assert "aws secretsmanager put-secret-value" in description  # how to set the value
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == RETAIN_IF


def test_app_log_group_is_encrypted_with_the_logs_key_and_expires(t):
    resource = t["Resources"]["AppLogGroup"]
    p = resource["Properties"]
    assert p["KmsKeyId"] == ref("LogsKeyArn")
    assert p["RetentionInDays"] == ref("AppLogRetentionDays")
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == RETAIN_IF


def test_only_the_secret_and_the_log_group_are_stateful(t):
    stateful = {n for n, r in t["Resources"].items() if "DeletionPolicy" in r}
    assert stateful == {"OpenAiApiKeySecret", "AppLogGroup"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_stateful_resources_and_log_retention_per_environment(live, env):
    resources = live[env]["resources"]
    policy = "Retain" if EXPECTED[env]["retain"] else "Delete"
    for name in ("OpenAiApiKeySecret", "AppLogGroup"):
        resource = resources[name]
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == (policy, policy)
    retention = resources["AppLogGroup"]["Properties"]["RetentionInDays"]
    assert retention == EXPECTED[env]["log_days"]


# --- per environment -------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_conditions_per_environment(live, env):
    want = EXPECTED[env]
    assert live[env]["conditions"] == {
        "RetainData": want["retain"],
        "BlueGreen": want["strategy"] == "BLUE_GREEN",
        "UseSpot": want["spot"],
        "XRayOn": True,
        "EcsExecOn": False,
        "HasPeak": want["peak"],
        "TasksNeedPublicIp": env == "dev",
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_app_parameters_per_environment(parameter_files, env):
    given = parameter_files[env]["Parameters"]
    want = EXPECTED[env]
    assert given["AppDesiredTasks"] == want["desired"]
    assert given["AppMinTasks"] == want["min"]
    assert given["AppMaxTasks"] == want["max"]
    assert given["UseFargateSpot"] == str(want["spot"]).lower()
    assert given["DeploymentStrategy"] == want["strategy"]
    assert given["BakeMinutes"] == "5"
    assert (given["AppCpu"], given["AppMemory"]) == (want["cpu"], want["memory"])
    assert given["AppArchitecture"] == "ARM64"
    assert given["AppLogRetentionDays"] == want["log_days"]
    assert (given["EnableEcsExec"], given["EnableXRay"]) == ("false", "true")
    assert (given["ApiBasePath"], given["FeatureFlags"]) == ("/api", "")
    if want["peak"]:
        assert (given["PeakStart"], given["PeakEnd"], given["PeakMinTasks"]) == (
            PEAK["start"],
            PEAK["end"],
            PEAK["tasks"],
        )


# --- outputs and tags ------------------------------------------------------------------------


def test_outputs(t):
    assert {name: o["Value"] for name, o in t["Outputs"].items()} == {
        "ClusterName": ref("Cluster"),
        "ServiceName": getatt("Service", "Name"),
        "OpenAiApiKeySecretArn": ref("OpenAiApiKeySecret"),
        "AppLogGroupName": ref("AppLogGroup"),
    }
    assert all(o["Description"].strip() for o in t["Outputs"].values())
    assert "SecretString" not in str(t["Outputs"])


def test_every_taggable_resource_has_the_component_tag(template, t):
    taggable = [name for name, r in template.resources.items() if "Tags" in r.props]
    # secret, log group, cluster, 5 roles, task definition, 3 deployment, 3 OpenAI and 1
    # redeploy alarms, service, scalable target, workflow, rule; the capacity provider
    # associations and the policies take no tags.
    assert len(taggable) == 20
    for name in taggable:
        tags = t["Resources"][name]["Properties"]["Tags"]
        assert [tag for tag in tags if tag["Key"] == "Component"] == [
            {"Key": "Component", "Value": "app"}
        ], name
