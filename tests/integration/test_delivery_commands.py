"""The pipelines' commands (plan, release-image, publish-site, migrate) against the emulator,
on dev deployed by `playback-infra deploy` as a user runs it.

What the emulator cannot do here, said once: it gives no nested change sets (plan's refusal
of a stateful replacement comes from the code's own comparison of the deployed stacks; AWS's
nested answer is unit tested), and without Docker its ECS RunTask records the task but runs no container, so the
task never exits: `migrate` is checked for the request it sends and for failing when no exit
code comes, not for a real migration (tests/database runs the same knex migrations).
"""

from __future__ import annotations

import contextlib
import json
import shutil

import boto3
import pytest

from playback_infra import migrate
from playback_infra.cli import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, main
from playback_infra.emulator.process import run_emulator
from playback_infra.environments.catalog import environments
from playback_infra.paths import REPO_ROOT

pytestmark = pytest.mark.emulator

DEV = next(env for env in environments() if env.name == "dev")


@pytest.fixture(scope="module")
def endpoint():
    with run_emulator() as url:
        assert main(["deploy", "--env", "dev", "--endpoint-url", url, "--yes"]) == EXIT_OK
        yield url


@pytest.fixture(scope="module")
def aws(endpoint):
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=DEV.region
    )
    return lambda service: session.client(service, endpoint_url=endpoint)


def _outputs(aws) -> dict[str, str]:
    stack = aws("cloudformation").describe_stacks(StackName=DEV.stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def _parameter(aws, key: str) -> str:
    stack = aws("cloudformation").describe_stacks(StackName=DEV.stack_name)["Stacks"][0]
    return next(p["ParameterValue"] for p in stack["Parameters"] if p["ParameterKey"] == key)


def _build(tmp_path, root: str = ".") -> object:
    """A copy of the Build artifact's templates and parameters, to plan from."""
    build = tmp_path / root
    for name in ("templates", "parameters"):
        shutil.copytree(REPO_ROOT / name, build / name)
    return build


def _set_parameter(build, key: str, value: str) -> None:
    path = build / "parameters" / "dev.json"
    content = json.loads(path.read_text())
    content["Parameters"][key] = value
    path.write_text(json.dumps(content))


def _plan(endpoint, build, exports, *extra: str) -> int:
    return main(["--root", str(build), "plan", "--env", "dev", "--endpoint-url", endpoint,
                 "--change-set-name", "pipeline-dev", "--exports", str(exports), *extra])  # fmt: skip


def _exports(path) -> dict[str, str]:
    import shlex

    return dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in path.read_text().splitlines()
    )


def test_plan_without_changes_deletes_the_change_set(endpoint, aws, tmp_path, capsys):
    exports = tmp_path / "plan.env"
    assert _plan(endpoint, _build(tmp_path), exports) == EXIT_OK
    assert "no changes; the empty change set was deleted" in capsys.readouterr().out
    assert _exports(exports) == {
        "CHANGE_SET_NAME": "",
        "CHANGE_SET_URL": "",
        "HAS_CHANGES": "false",
    }
    summaries = aws("cloudformation").list_change_sets(StackName=DEV.stack_name)["Summaries"]
    assert [s for s in summaries if s["ExecutionStatus"] == "AVAILABLE"] == []


def test_plan_shows_a_change_and_exports_its_name_and_link(endpoint, aws, tmp_path, capsys):
    build = _build(tmp_path)
    _set_parameter(build, "AppDesiredTasks", "2")
    exports = tmp_path / "plan.env"
    assert _plan(endpoint, build, exports, "--jobs-image-tag", "jobs-0123abc") == EXIT_OK
    out = capsys.readouterr().out
    assert "Modify   AppStack" in out and "JobsImageTag=jobs-0123abc" in out
    exported = _exports(exports)
    assert exported["CHANGE_SET_NAME"] == "pipeline-dev" and exported["HAS_CHANGES"] == "true"
    assert exported["CHANGE_SET_URL"].startswith(
        f"https://{DEV.region}.console.aws.amazon.com/cloudformation/home?region={DEV.region}#/stacks/changesets/changes?stackId=arn%3Aaws%3Acloudformation"
    )
    cfn = aws("cloudformation")
    described = cfn.describe_change_set(StackName=DEV.stack_name, ChangeSetName="pipeline-dev")
    assert described["ExecutionStatus"] == "AVAILABLE"  # for the pipeline's execute action
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}
    assert (parameters["AppDesiredTasks"], parameters["JobsImageTag"]) == ("2", "jobs-0123abc")
    assert parameters["ImageTag"] == _parameter(aws, "ImageTag")  # the deployed one, kept
    # A second run replaces the change set of that name instead of failing on it.
    assert _plan(endpoint, build, exports) == EXIT_OK
    cfn.delete_change_set(StackName=DEV.stack_name, ChangeSetName="pipeline-dev")


def test_plan_refuses_to_replace_the_database(endpoint, aws, tmp_path, capsys):
    """DatabaseGeneration names the instance (a create-only property): a new generation
    replaces the database, which the plan refuses with the replacement guard's guidance."""
    build = _build(tmp_path)
    _set_parameter(build, "DatabaseGeneration", "2")
    exports = tmp_path / "plan.env"
    assert _plan(endpoint, build, exports) == EXIT_FAILED
    err = capsys.readouterr().err
    assert (
        "REFUSED dev data: DatabaseInstance (AWS::RDS::DBInstance): replace, DBInstanceIdentifier: "
        '"baseball-playback-dev-1" -> "baseball-playback-dev-2" (via DatabaseGeneration)' in err
    )
    assert "snapshot or export the data" in err and "not to be executed" in err
    assert not exports.exists()  # nothing for an execute action to run


def _replicated(aws, tag: str) -> None:
    """The image as ECR replication leaves it in the environment account's registry."""
    ecr = aws("ecr")
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName="baseball-playback/backend")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                           "digest": "sha256:" + "0" * 64}, "layers": []}  # fmt: skip
    ecr.put_image(
        repositoryName="baseball-playback/backend",
        imageManifest=json.dumps(manifest),
        imageTag=tag,
    )


def test_release_image_waits_for_the_replicated_image(endpoint, capsys):
    missing = "fedcba9876543210fedcba9876543210fedcba98"
    args = ["release-image", "--env", "dev", "--endpoint-url", endpoint, "--image-tag", missing]
    assert main([*args, "--image-wait-seconds", "0"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert f"baseball-playback/backend:{missing} is not in this account's registry" in err
    assert "ImageReplication" in err


def test_release_image_changes_only_the_image_and_plan_keeps_it(endpoint, aws, tmp_path, capsys):
    tag = "0123456789abcdef0123456789abcdef01234567"
    _replicated(aws, tag)
    assert main(["release-image", "--env", "dev", "--endpoint-url", endpoint, "--image-tag", tag]) == EXIT_OK  # fmt: skip
    assert _parameter(aws, "ImageTag") == tag
    assert _parameter(aws, "JobsImageTag") == "bootstrap"  # kept (UsePreviousValue)
    ecs = aws("ecs")
    outputs = _outputs(aws)
    (service,) = ecs.describe_services(
        cluster=outputs["ClusterName"], services=[outputs["ServiceName"]]
    )["services"]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    images = [c["image"] for c in definition["taskDefinition"]["containerDefinitions"]]
    assert any(image.endswith(f"/baseball-playback/backend:{tag}") for image in images)
    capsys.readouterr()
    # The same tag again: nothing to do. A plan afterwards keeps the released tag.
    assert main(["release-image", "--env", "dev", "--endpoint-url", endpoint, "--image-tag", tag]) == EXIT_OK  # fmt: skip
    assert "already runs image" in capsys.readouterr().out
    assert _plan(endpoint, _build(tmp_path), tmp_path / "plan.env") == EXIT_OK
    out = capsys.readouterr().out
    assert f"ImageTag={tag}, JobsImageTag=bootstrap" in out and "no changes" in out


def test_release_image_refuses_bad_input(endpoint, capsys):
    bad_tag = ["release-image", "--env", "dev", "--endpoint-url", endpoint, "--image-tag", "a:b"]
    assert main(bad_tag) == EXIT_CONFIG
    assert "'a:b' is not an image tag ImageTag accepts" in capsys.readouterr().err
    latest = ["release-image", "--env", "dev", "--endpoint-url", endpoint, "--image-tag", "latest"]
    assert main(latest) == EXIT_CONFIG
    undeployed = ["release-image", "--env", "staging", "--endpoint-url", endpoint, "--image-tag", "x"]  # fmt: skip
    assert main(undeployed) == EXIT_FAILED
    assert "baseball-playback-staging is not deployed" in capsys.readouterr().err
    assert main(["release-image", "--env", "dev", "--image-tag", "x"]) == EXIT_CONFIG
    assert "give --profile (a real account) or --endpoint-url" in capsys.readouterr().err


def _site(tmp_path, name: str, files: dict[str, str]):
    build = tmp_path / name
    for key, text in files.items():
        (build / key).parent.mkdir(parents=True, exist_ok=True)
        (build / key).write_text(text)
    return build


def _publish(endpoint, build, version: str) -> int:
    return main(["publish-site", "--env", "dev", "--endpoint-url", endpoint,
                 "--build-dir", str(build), "--build-version", version])  # fmt: skip


def _invalidations(aws, distribution: str) -> list[list[str]]:
    cloudfront = aws("cloudfront")
    listed = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]
    return [
        sorted(
            cloudfront.get_invalidation(DistributionId=distribution, Id=item["Id"])["Invalidation"][
                "InvalidationBatch"
            ]["Paths"].get("Items", [])
        )
        for item in listed.get("Items", [])
    ]


def test_publish_site_uploads_with_cache_headers_and_invalidates_only_changes(
    endpoint, aws, tmp_path, capsys
):
    outputs = _outputs(aws)
    bucket, distribution = outputs["SiteBucketName"], outputs["SiteDistributionId"]
    s3 = aws("s3")
    first = _site(tmp_path, "v1", {
        "index.html": "<!doctype html><title>v1</title>",
        "assets/index-BQ3xNm9q.js": "console.log(1)",
        "assets/vendor.3f2a9c1e.css": "body{}",
        "favicon.ico": "icon",
        "config.json": '{"from": "the build"}',
    })  # fmt: skip
    assert _publish(endpoint, first, "v1sha") == EXIT_OK
    heads = {
        key: s3.head_object(Bucket=bucket, Key=key)
        for key in ("index.html", "assets/index-BQ3xNm9q.js", "assets/vendor.3f2a9c1e.css",
                    "favicon.ico", "config.json")
    }  # fmt: skip
    immutable = "public, max-age=31536000, immutable"
    assert {k: (h["CacheControl"], h["ContentType"]) for k, h in heads.items()} == {
        "index.html": ("no-cache", "text/html; charset=utf-8"),
        "assets/index-BQ3xNm9q.js": (immutable, "text/javascript; charset=utf-8"),
        "assets/vendor.3f2a9c1e.css": (immutable, "text/css; charset=utf-8"),
        "favicon.ico": ("no-cache", "image/vnd.microsoft.icon"),
        "config.json": ("no-cache", "application/json; charset=utf-8"),
    }
    config = json.loads(s3.get_object(Bucket=bucket, Key="config.json")["Body"].read())
    assert config["buildVersion"] == "v1sha" and config["siteUrl"] == outputs["SiteUrl"]
    assert _invalidations(aws, distribution) == [
        ["/", "/config.json", "/favicon.ico", "/index.html"]
    ]

    capsys.readouterr()
    second = _site(tmp_path, "v2", {
        "index.html": "<!doctype html><title>v2</title>",
        "assets/index-Zk81aQ2x.js": "console.log(2)",
        "assets/vendor.3f2a9c1e.css": "body{}",
        "favicon.ico": "icon",
    })  # fmt: skip
    assert _publish(endpoint, second, "v1sha") == EXIT_OK
    out = capsys.readouterr().out
    assert "2 uploaded, 3 unchanged, 1 deleted" in out
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {"index.html", "assets/index-Zk81aQ2x.js", "assets/vendor.3f2a9c1e.css",
                    "favicon.ico", "config.json"}  # fmt: skip
    # Only index.html (and /, which serves it) changed among the non-hashed files.
    invalidations = _invalidations(aws, distribution)
    assert len(invalidations) == 2 and ["/", "/index.html"] in invalidations

    assert _publish(endpoint, second, "v1sha") == EXIT_OK
    assert "no invalidation: no non-hashed file changed" in capsys.readouterr().out
    assert len(_invalidations(aws, distribution)) == 2


def test_publish_site_refuses_a_directory_without_index(endpoint, tmp_path, capsys):
    assert _publish(endpoint, tmp_path, "v1") == EXIT_CONFIG
    assert (
        f"{tmp_path} has no index.html; give the build's output directory"
        in capsys.readouterr().err
    )


def test_migrate_runs_the_migration_task_and_fails_without_an_exit_code(
    endpoint, aws, monkeypatch, capsys
):
    sent = []

    def recorded(outputs):
        sent.append(request := run_task_request(outputs))
        return request

    run_task_request = migrate.run_task_request
    monkeypatch.setattr(migrate, "run_task_request", recorded)
    monkeypatch.setattr(migrate, "POLL_SECONDS", 0.2)
    command = ["migrate", "--env", "dev", "--endpoint-url", endpoint, "--timeout", "1"]
    assert main(command) == EXIT_FAILED
    captured = capsys.readouterr()
    assert "sh scripts/release.sh" in captured.out
    assert "no result in time: the task was RUNNING when migrate stopped it" in captured.err
    outputs = _outputs(aws)
    (request,) = sent
    assert request["networkConfiguration"]["awsvpcConfiguration"] == {
        "subnets": outputs["PrivateAppSubnetIds"].split(","),
        "securityGroups": [outputs["JobsSecurityGroupId"]],
        "assignPublicIp": "DISABLED",
    }
    ecs = aws("ecs")
    cluster = outputs["JobsClusterName"]
    arns = ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]
    (task,) = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    assert task["taskDefinitionArn"] == outputs["MigrationTaskDefinitionArn"]
    assert task["launchType"] == "FARGATE" and task["startedBy"] == "playback-infra-migrate"
    assert task["overrides"]["containerOverrides"] == [
        {"name": "migrate", "command": ["scripts/release.sh"]}
    ]
    definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])
    (container,) = definition["taskDefinition"]["containerDefinitions"]
    assert container["entryPoint"] == ["sh"] and container["name"] == "migrate"


def test_migrate_fails_clearly_when_the_task_cannot_start(endpoint, monkeypatch, capsys):
    run_task_request = migrate.run_task_request
    monkeypatch.setattr(
        migrate,
        "run_task_request",
        lambda outputs: {**run_task_request(outputs), "taskDefinition": "no-such-family:1"},
    )
    assert main(["migrate", "--env", "dev", "--endpoint-url", endpoint]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "migrate in dev:" in err and "Unable to find task definition" in err
