"""AWS's own rotation function rotates the secrets our data stack creates: the hosted MySQL
alternating-users function (Secrets Manager's rotation function template, the code the
rotation stack's HostedRotationLambda deploys), step by step, twice, for the app and the
migration user, against the emulator's Secrets Manager and RDS API and a MariaDB server that
requires TLS as RDS does (`require_secure_transport`).

What is real here: the function's code (the public copy in shared/vendor, imported from its
path, never edited) and its four steps; the data and rotation templates as committed, deployed
into the emulator with dev's parameter file (the instance's port is the test server's); the
master user's RDS-managed secret; the release's grants step (database/scripts/grant-users.js).

What stands in for AWS, each as the function meets it on Lambda:
- Secrets Manager's rotation service: RotateSecret stages the new version, then this test
  invokes the function's steps with its token, as the service does.
- the environment the hosted application gives the function: SECRETS_MANAGER_ENDPOINT (the
  regional endpoint, here the emulator) and EXCLUDE_CHARACTERS (the schedule's
  ExcludeCharacters); no HostedRotationLambda property sets any other, so
  USERNAME_CHARACTER_LIMIT keeps its default, 16.
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-secretsmanager-rotationschedule-hostedrotationlambda.html
- the network of its subnets: the RDS API through its endpoint (here the emulator,
  AWS_ENDPOINT_URL_RDS), the instance's endpoint name resolving to the database (the VPC's
  DNS: `LambdaNetwork`), and the Lambda runtime's CA bundle, /etc/pki/tls/cert.pem, trusting
  the database's certificate (here the test CA).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import socket
from pathlib import Path

import boto3
import pymysql
import pytest

from playback_infra.deployed_environment import read_templates
from playback_infra.emulator.process import run_emulator
from playback_infra.paths import REPO_ROOT
from tests.database.helpers import ADMIN_USER, GRANT_USERS, run
from tests.database.server import certificates, running_server

pytestmark = pytest.mark.emulator

# The public repository of the rotation functions, beside this one ($ROTATION_LAMBDAS elsewhere).
ROTATION_LAMBDAS = Path(
    os.environ.get(
        "ROTATION_LAMBDAS",
        REPO_ROOT.parent / "shared" / "vendor" / "aws-secrets-manager-rotation-lambdas",
    )
)
FUNCTION = ROTATION_LAMBDAS / "SecretsManagerRDSMySQLRotationMultiUser" / "lambda_function.py"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
LAMBDA_CA_BUNDLE = "/etc/pki/tls/cert.pem"  # what the function verifies the database with
REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
DATABASE = "playback"  # grant-users.js's default schema
USERS = {"DatabaseAppSecretArn": "pb_app", "DatabaseMigrationSecretArn": "pb_migrate"}


def client(service: str, endpoint: str):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint, **CREDENTIALS)


@pytest.fixture(scope="module")
def endpoint():
    with run_emulator() as url:
        yield url


@pytest.fixture(scope="module")
def database(server, tmp_path_factory):
    """MariaDB with TLS required of every client, as RDS's parameter group sets it; `server`
    (the session's plain one) only makes the test skip where MariaDB is missing."""
    if not shutil.which("openssl"):
        pytest.skip("openssl not found")
    base = tmp_path_factory.mktemp("rotation-db")
    certificates(base, "rds")
    options = [
        f"--ssl-ca={base / 'rds-ca.pem'}",
        f"--ssl-cert={base / 'rds-server.pem'}",
        f"--ssl-key={base / 'rds-server.key'}",
        "--require-secure-transport=ON",
    ]
    (base / "db").mkdir()
    with running_server(base / "db", options=options) as started:
        yield started, base / "rds-ca.pem", base / "db" / "mariadb.sock"


def _deploy(cfn, name: str, template: dict, values: dict[str, str]) -> dict[str, str]:
    """Create stack `name` from `template` with `values` for its parameters; its outputs."""
    missing = set(template["Parameters"]) - set(values)
    assert not missing, f"no value for {missing}"
    stack_id = cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": values[k]} for k in template["Parameters"]],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )["StackId"]  # fmt: skip
    cfn.get_waiter("stack_create_complete").wait(
        StackName=stack_id, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.fixture(scope="module")
def stacks(endpoint, database):
    """The data and rotation stacks as committed, deployed with dev's parameters; the other
    stacks' outputs they take (subnets, groups, keys, topic) made with the emulator's APIs.
    The users exist as the release's grants step makes them, the master user with RDS's
    generated password."""
    server, _ca, _socket = database
    templates = read_templates(REPO_ROOT)
    dev = json.loads((REPO_ROOT / "parameters" / "dev.json").read_text())["Parameters"]
    ec2 = client("ec2", endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = ",".join(
        ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for cidr, zone in (("10.20.0.0/24", "us-east-1a"), ("10.20.1.0/24", "us-east-1b"))
    )
    group = ec2.create_security_group(GroupName="any", Description="any", VpcId=vpc)["GroupId"]
    kms = client("kms", endpoint)
    outputs = {
        "PrivateDataSubnetIds": subnets,
        "PrivateAppSubnetIds": subnets,
        **{f"{g}SecurityGroupId": group for g in ("Database", "DatabaseProxy", "Cache")},
        "SecretsRotationSecurityGroupId": group,
        "DataKeyArn": kms.create_key()["KeyMetadata"]["Arn"],
        "LogsKeyArn": kms.create_key()["KeyMetadata"]["Arn"],
        "AlarmTopicArn": client("sns", endpoint).create_topic(Name="alarms")["TopicArn"],
    }
    data = templates["data"]
    # The one change: the test server listens on a free port, RDS on 3306.
    data["Resources"]["DatabaseInstance"]["Properties"]["Port"] = str(server.port)
    cfn = client("cloudformation", endpoint)
    outputs.update(_deploy(cfn, "data", data, {**dev, **outputs}))
    outputs.update(_deploy(cfn, "rotation", templates["rotation"], {**dev, **outputs}))

    master = json.loads(
        client("secretsmanager", endpoint).get_secret_value(
            SecretId=outputs["DatabaseMasterSecretArn"]
        )["SecretString"]
    )
    assert set(master) == {"username", "password"}  # RDS's own secret holds no host
    assert master["username"] == ADMIN_USER
    as_root(database, "ALTER USER %s@'%%' IDENTIFIED BY %s", (ADMIN_USER, master["password"]))
    granted = grant_users(endpoint, database, outputs)
    assert granted.returncode == 0, granted.stderr
    return outputs, templates["rotation"]


def as_root(database, sql: str, args=None) -> list[tuple]:
    """Rows of `sql`, run as the server's root through its socket."""
    _server, _ca, socket_path = database
    with (
        pymysql.connect(unix_socket=str(socket_path), user="root", autocommit=True) as root,
        root.cursor() as cursor,
    ):
        cursor.execute(sql, args)
        return list(cursor.fetchall())


def grant_users(endpoint, database, outputs) -> object:
    """The release's grants step, as the migration task runs it: the master secret, the
    instance's host, each user's secret (its current version)."""
    server, ca, _socket = database
    env = server.env(
        AWS_ENDPOINT_URL=endpoint,
        AWS_REGION=REGION,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        DB_SECRET_ARN=outputs["DatabaseMasterSecretArn"],
        DB_SSL="true",
        DB_SSL_CA=str(ca),
        **{
            f"DB_{role}_SECRET_ARN": outputs[f"Database{role.title()}SecretArn"]
            for role in ("APP", "MIGRATION", "REPORTING")
        },
    )
    return run(["node", str(GRANT_USERS)], env)


class LambdaNetwork:
    """pymysql as the function reaches the database from its subnets: the instance's endpoint
    name resolves to the test server (the VPC's DNS), any other name to nothing, and the
    runtime's CA bundle is the test CA. Everything else is pymysql's own."""

    OperationalError = pymysql.OperationalError

    def __init__(self, endpoint_name: str, address: str, ca: str):
        self.endpoint_name, self.address, self.ca = endpoint_name, address, ca

    def connect(self, *, host, ssl, **options):
        if host != self.endpoint_name:
            raise pymysql.OperationalError(2005, f"Unknown server host '{host}'")
        if ssl and ssl.get("ca") == LAMBDA_CA_BUNDLE:
            ssl = {**ssl, "ca": self.ca}
        return pymysql.connect(host=self.address, ssl=ssl, **options)


@pytest.fixture(scope="module")
def function(endpoint, database, stacks):
    """AWS's function, loaded from its file, in the environment the hosted rotation gives it."""
    if not FUNCTION.exists():
        message = f"AWS's rotation function not found at {FUNCTION} (set ROTATION_LAMBDAS)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    server, ca, _socket = database
    outputs, rotation = stacks
    (hosted,) = {
        json.dumps(r["Properties"]["HostedRotationLambda"]["ExcludeCharacters"])
        for r in rotation["Resources"].values()
        if r["Type"] == "AWS::SecretsManager::RotationSchedule"
    }
    spec = importlib.util.spec_from_file_location("hosted_mysql_multi_user_rotation", FUNCTION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    instance = client("rds", endpoint).describe_db_instances(
        DBInstanceIdentifier=outputs["DatabaseInstanceId"]
    )["DBInstances"][0]
    module.pymysql = LambdaNetwork(instance["Endpoint"]["Address"], server.host, str(ca))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        for name, value in {
            "SECRETS_MANAGER_ENDPOINT": endpoint,
            "EXCLUDE_CHARACTERS": json.loads(hosted),
            "AWS_ENDPOINT_URL_RDS": endpoint,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
        }.items():
            patch.setenv(name, value)
        yield module


@pytest.fixture(scope="module")
def secrets(endpoint):
    return client("secretsmanager", endpoint)


def rotate(secrets, function, arn: str) -> str:
    """One rotation as Secrets Manager runs it: RotateSecret stages a version, then the
    function's four steps run with its token. The token."""
    token = secrets.rotate_secret(SecretId=arn)["VersionId"]
    for step in STEPS:
        function.lambda_handler({"SecretId": arn, "ClientRequestToken": token, "Step": step}, None)
    return token


def value(secrets, arn: str, stage: str = "AWSCURRENT") -> dict:
    return json.loads(secrets.get_secret_value(SecretId=arn, VersionStage=stage)["SecretString"])


@contextlib.contextmanager
def signed_in(database, credentials: dict):
    """A TLS session (the certificate verified) as `credentials`, as the backend opens one."""
    server, ca, _socket = database
    with pymysql.connect(
        host=server.host, port=server.port, user=credentials["username"],
        password=credentials["password"], database=DATABASE, ssl={"ca": str(ca)},
        autocommit=True,
    ) as connection, connection.cursor() as cursor:  # fmt: skip
        yield cursor


# --- two rotations of each user's secret -------------------------------------------------------


@pytest.mark.parametrize("output", USERS)
def test_two_rotations_alternate_the_users_and_every_version_signs_in(
    secrets, function, database, stacks, output
):
    outputs, _rotation = stacks
    arn, user = outputs[output], USERS[output]
    first = value(secrets, arn)
    # The secret names the user or, after an odd number of rotations, its clone.
    assert first["username"] in (user, f"{user}_clone")
    assert first["masterarn"] == outputs["DatabaseMasterSecretArn"]
    other = {user: f"{user}_clone", f"{user}_clone": user}
    excluded = set(function.os.environ["EXCLUDE_CHARACTERS"])

    seen = [first]
    for expected in (other[first["username"]], first["username"]):
        token = rotate(secrets, function, arn)
        described = secrets.describe_secret(SecretId=arn)
        assert "AWSCURRENT" in described["VersionIdsToStages"][token]
        assert "LastRotatedDate" in described
        current, previous = value(secrets, arn), value(secrets, arn, "AWSPREVIOUS")
        assert previous == seen[-1]
        # Each rotation gives the other user (the first, the clone it creates) a new password.
        assert current["username"] == expected
        assert current["password"] not in {s["password"] for s in seen}
        assert not excluded & set(current["password"])
        assert {k: v for k, v in current.items() if k not in ("username", "password")} == {
            k: v for k, v in first.items() if k not in ("username", "password")
        }
        # Both versions sign in: a task started with the previous one keeps working.
        for version in (current, previous):
            with signed_in(database, version) as cursor:
                cursor.execute("SELECT CURRENT_USER()")
                assert cursor.fetchone()[0] == f"{version['username']}@%"
        seen.append(current)


def test_the_clone_holds_the_users_grants_and_both_do_their_job(
    secrets, function, database, stacks
):
    outputs, _rotation = stacks
    app, migration = outputs["DatabaseAppSecretArn"], outputs["DatabaseMigrationSecretArn"]
    for arn in (app, migration):
        if not value(secrets, arn)["username"].endswith("_clone"):
            rotate(secrets, function, arn)
    # The migration user, as the current version names it, changes the schema ...
    with signed_in(database, value(secrets, migration)) as cursor:
        cursor.execute("DROP TABLE IF EXISTS rotation_probe")
        cursor.execute("CREATE TABLE rotation_probe (id INT PRIMARY KEY)")
    # ... and the app user reads and writes, with either version, and changes no schema.
    for stage in ("AWSCURRENT", "AWSPREVIOUS"):
        with signed_in(database, value(secrets, app, stage)) as cursor:
            cursor.execute("INSERT INTO rotation_probe VALUES (%s)", (len(stage),))
            cursor.execute("SELECT COUNT(*) FROM rotation_probe")
            with pytest.raises(pymysql.err.OperationalError) as refused:
                cursor.execute("DROP TABLE rotation_probe")
            assert refused.value.args[0] == 1142  # DROP command denied
    clone, original = (
        as_root(database, f"SHOW GRANTS FOR `{u}`@'%'") for u in ("pb_app_clone", "pb_app")
    )
    assert [g for (g,) in clone if DATABASE in g] == [
        g.replace("`pb_app`", "`pb_app_clone`") for (g,) in original if DATABASE in g
    ]


def test_the_next_release_grants_step_takes_the_rotated_secrets(
    secrets, function, endpoint, database, stacks
):
    outputs, _rotation = stacks
    for output in USERS:
        rotate(secrets, function, outputs[output])
    done = grant_users(endpoint, database, outputs)
    assert done.returncode == 0, done.stderr
    for user in USERS.values():
        # The user and its clone, whichever the secret names now, keep the role's grants.
        assert f"{user}: " in done.stdout and f"{user}_clone: " in done.stdout
        current = value(secrets, outputs[next(o for o, u in USERS.items() if u == user)])
        with signed_in(database, current) as cursor:
            cursor.execute("SELECT 1")


# --- what each defect of the old secrets does to AWS's function -------------------------------


def _copy(secrets, arn: str, **changes) -> str:
    """A new secret holding the current value of `arn` with `changes` (None removes a key),
    rotation configured on it."""
    copied = {k: v for k, v in {**value(secrets, arn), **changes}.items() if v is not None}
    name = f"copy-{len(secrets.list_secrets()['SecretList'])}"
    new = secrets.create_secret(Name=name, SecretString=json.dumps(copied))["ARN"]
    secrets.rotate_secret(
        SecretId=new,
        RotationLambdaARN=f"arn:aws:lambda:{REGION}:000000000000:function:rotate",
        RotateImmediately=False,
    )
    return new


def _failed_step(secrets, function, arn: str) -> tuple[str, Exception]:
    """Rotate until a step fails: that step and its error. A failed rotation leaves its
    AWSPENDING version behind, and the current version unchanged."""
    before = value(secrets, arn)
    token = secrets.rotate_secret(SecretId=arn)["VersionId"]
    for step in STEPS:
        try:
            function.lambda_handler(
                {"SecretId": arn, "ClientRequestToken": token, "Step": step}, None
            )
        except Exception as error:  # any error of the function fails the rotation
            assert (
                "AWSPENDING" in secrets.describe_secret(SecretId=arn)["VersionIdsToStages"][token]
            )
            assert value(secrets, arn) == before
            return step, error
    pytest.fail("the rotation succeeded")


def test_without_masterarn_set_secret_fails(secrets, function, stacks):
    outputs, _rotation = stacks
    copy = _copy(secrets, outputs["DatabaseAppSecretArn"], masterarn=None)
    step, error = _failed_step(secrets, function, copy)
    assert (step, type(error), error.args) == ("setSecret", KeyError, ("masterarn",))


def test_a_name_whose_clone_is_over_16_characters_fails_create_secret(secrets, function, stacks):
    outputs, _rotation = stacks
    copy = _copy(secrets, outputs["DatabaseAppSecretArn"], username="playback_app")
    step, error = _failed_step(secrets, function, copy)
    assert step == "createSecret"
    assert "username length with _clone appended would exceed 16 characters" in str(error)


def test_without_the_rds_api_set_secret_fails(secrets, function, stacks, monkeypatch):
    """The RDS-managed master secret holds no host: the function asks DescribeDBInstances,
    which subnets without a NAT reach only through the RDS endpoint."""
    outputs, _rotation = stacks
    copy = _copy(secrets, outputs["DatabaseAppSecretArn"])
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_RDS", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    step, error = _failed_step(secrets, function, copy)
    assert step == "setSecret"
    assert "DescribeDBInstances" in str(error)


# --- a failed rotation pages ---------------------------------------------------------------------


def rotation_failed(secret_arn: str, event_name: str = "RotationFailed") -> dict:
    """The event Secrets Manager sends when a rotation fails: a CloudTrail service event, the
    secret's ARN in additionalEventData (as AWS records it, its account and region here's).
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
    """
    return {
        "version": "0",
        "id": "d82e0a2d-f36e-11fd-37cb-cba423a71196",
        "detail-type": "AWS Service Event via CloudTrail",
        "source": "aws.secretsmanager",
        "account": "000000000000",
        "time": "2026-12-01T00:50:20Z",
        "region": REGION,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {"accountId": "000000000000", "invokedBy": "secretsmanager.amazonaws.com"},
            "eventTime": "2026-12-01T00:50:20Z",
            "eventSource": "secretsmanager.amazonaws.com",
            "eventName": event_name,
            "awsRegion": REGION,
            "sourceIPAddress": "secretsmanager.amazonaws.com",
            "userAgent": "secretsmanager.amazonaws.com",
            "errorMessage": "Error when executing lambda arn:aws:lambda:us-east-1:000000000000:"
            "function:baseball-playback-dev-rotate-app during setSecret step",
            "requestParameters": None,
            "responseElements": None,
            "additionalEventData": {"SecretId": secret_arn},
            "requestID": f"Rotation-{secret_arn}",
            "eventID": "e3b69cfe-b70e-4c94-baa9-9decc3c150b9",
            "readOnly": False,
            "eventType": "AwsServiceEvent",
            "managementEvent": True,
            "recipientAccountId": "000000000000",
            "eventCategory": "Management",
        },
    }  # fmt: skip


def test_a_failed_rotation_of_either_secret_reaches_the_alarm_topic(endpoint, stacks):
    """EventBridge's own matcher (TestEventPattern) against the deployed rule. The emulator
    cannot deliver the event itself: PutEvents refuses an aws.* source, as AWS does."""
    outputs, _rotation = stacks
    events = client("events", endpoint)
    rule = events.describe_rule(Name="baseball-playback-dev-rotation-failed")

    def matches(event: dict) -> bool:
        return events.test_event_pattern(
            EventPattern=rule["EventPattern"], Event=json.dumps(event)
        )["Result"]

    for output in USERS:
        assert matches(rotation_failed(outputs[output])), output
    assert not matches(rotation_failed(outputs["DatabaseAppSecretArn"], "RotationSucceeded"))
    assert not matches(rotation_failed(outputs["DatabaseReportingSecretArn"]))
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == outputs["AlarmTopicArn"]
