"""The checks every change passes: each must pass on our templates and catch what it guards."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from playback_infra.checks import cache, iam, runner, suppressions
from playback_infra.paths import REPO_ROOT
from playback_infra.stacks.pipeline_target import execution_permissions
from playback_infra.synth import differences, render

CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))


@pytest.fixture(scope="module")
def results():
    """Every check's result, its cache this session's (tests/conftest.py): a later `check` of
    the same templates in this process's session (the clean checkout's) reuses them."""
    rendered = render()
    return {
        r.name: r
        for r in runner.run_all(
            REPO_ROOT, rendered.files, rendered.dicts, rendered.environments, cache.Cache.default()
        )
    }


def test_every_check_passes_on_the_generated_templates(results):
    failed = {name: r.details for name, r in results.items() if not r.ok}
    assert failed == {}


def test_cfn_lint_reports_zero_errors_and_warnings(results):
    assert results["cfn-lint"].summary == "0 errors, 0 warnings, 0 other"


def test_checkov_scans_and_fails_nothing(results):
    passed, failed = (int(part.split()[0]) for part in results["checkov"].summary.split(", ")[:2])
    assert failed == 0
    assert passed > 30  # it really scanned the resources


def test_cfn_lint_checks_the_nested_stack_wiring(tmp_path: Path):
    shutil.copytree(REPO_ROOT / "templates", tmp_path / "templates")
    root = tmp_path / "templates" / "root.yaml"
    text = root.read_text()
    root.write_text(text.replace("AppPort: !Ref AppPort", "AppPortTypo: !Ref AppPort", 1))
    done = subprocess.run([CFN_LINT, str(root)], capture_output=True, text=True)
    assert "E3043" in done.stdout
    assert (
        'Specified parameter "AppPortTypo" doesn\'t exist in nested stack template' in done.stdout
    )


def _role(statement: dict, resource_type: str = "AWS::IAM::Role") -> dict:
    return {"Resources": {"Thing": {"Type": resource_type, "Properties": {
        "Policies": [{"PolicyDocument": {"Statement": [statement]}}]}}}}  # fmt: skip


@pytest.mark.parametrize(
    "statement, complaint",
    [
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}, "wildcard action 's3:*'"),
        ({"Effect": "Allow", "Action": ["*"], "Resource": "arn:aws:s3:::b"}, "wildcard action '*'"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}, "Allow with NotAction"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "x"}, "Allow with NotResource"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, "Resource '*' for s3:GetObject"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Principal": "*"},
         "every principal"),
        ({"Effect": "Allow", "Action": "s3:Get?bject", "Resource": "arn:aws:s3:::b/*"}, "wildcard action 's3:Get?bject'"),
        ({"Effect": "Allow", "Action": "S3:*", "Resource": "arn:aws:s3:::b/*"}, "wildcard action 'S3:*'"),
        ({"Effect": "Allow", "Action": "s3:GetObject"}, "names no Resource"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*"},
         "Resource 'arn:aws:s3:::*' for s3:GetObject"),
        ({"Effect": "Allow", "Action": "logs:PutLogEvents",
          "Resource": {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"}},
         "Resource 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*' for logs:PutLogEvents"),
        ({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
          "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
         "iam:PassRole on any role"),
        ({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111122223333:role/*",
          "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
         "iam:PassRole on any role"),
        ({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111122223333:role/app"},
         "iam:PassRole without an iam:PassedToService condition"),
        ({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": ["*"]}}, "every principal"),
        ({"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Principal": {"Federated": "*"}},
         "every principal"),
        ({"Effect": "Allow", "Action": "sts:AssumeRole", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}},
         "Allow with NotPrincipal"),
    ],
)  # fmt: skip
def test_iam_check_catches(statement, complaint):
    found = iam.problems({"t": _role(statement)})
    assert len(found) == 1
    assert complaint in found[0]
    assert found[0].startswith("t: Thing: ")


def _trust(statement: dict) -> dict:
    return {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Statement": [statement]}}}}}  # fmt: skip


def test_iam_check_finds_a_trust_policy_open_to_everyone():
    found = iam.problems({"t": _trust({"Effect": "Allow", "Principal": {"AWS": "*"},
                                       "Action": ["sts:AssumeRole"]})})  # fmt: skip
    assert found == ["t: Role: a statement: Allow to every principal '*'"]


def test_iam_check_accepts_what_least_privilege_allows():
    """A service trust (no Resource), actions without resource-level permissions on '*' (in any
    case), a named role passed to a named service, a key policy's '*'."""
    passes = {
        "Effect": "Allow", "Action": "iam:PassRole", "Resource": {"Fn::GetAtt": ["TaskRole", "Arn"]},
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
    }  # fmt: skip
    assert iam.problems({
        "trust": _trust({"Effect": "Allow", "Principal": {"Service": ["ecs-tasks.amazonaws.com"]},
                         "Action": ["sts:AssumeRole"]}),
        "unscoped": _role({"Effect": "Allow", "Action": ["ECR:GetAuthorizationToken"], "Resource": "*"}),
        "passes": _role(passes),
        "prefix": _role({"Effect": "Allow", "Action": "s3:GetObject",
                         "Resource": {"Fn::Sub": "${SiteBucket.Arn}/*"}}),
    }) == []  # fmt: skip


def test_iam_check_allows_resource_star_in_key_policies_and_deny_statements():
    key = {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*"}]}}}}}  # fmt: skip
    deny = _role({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
    assert iam.problems({"key": key, "deny": deny}) == []


def test_suppression_check_wants_a_reason():
    template = {"Resources": {
        "A": {"Type": "X", "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_1", "comment": " "}]}}},
        "B": {"Type": "X", "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W3002"]}}}},
        "C": {"Type": "X", "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W1"]}},
                                        "SuppressionReasons": {"W1": "why"}}},
    }}  # fmt: skip
    assert suppressions.problems({"t": template}) == [
        "t: A: checkov skip CKV_AWS_1 has no reason",
        "t: B: cfn-lint ignore W3002 has no reason in SuppressionReasons",
    ]


def test_out_of_sync_files_are_reported(tmp_path: Path):
    rendered = render()
    shutil.copytree(REPO_ROOT / "templates", tmp_path / "templates")
    shutil.copytree(REPO_ROOT / "parameters", tmp_path / "parameters")
    shutil.copytree(REPO_ROOT / "docs", tmp_path / "docs")
    shutil.copy(REPO_ROOT / "taskcat.yml", tmp_path)
    (tmp_path / "parameters" / "dev.json").write_text("{}\n")
    (tmp_path / "templates" / "old.yaml").write_text("x: 1\n")
    assert differences(rendered.files, tmp_path) == ["parameters/dev.json", "templates/old.yaml"]


def test_an_execution_action_table_the_schemas_do_not_give_is_reported(tmp_path: Path):
    files = {"templates/network.yaml": (REPO_ROOT / "templates" / "network.yaml").read_text()}
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "network.yaml").write_text(files["templates/network.yaml"])
    table = tmp_path / execution_permissions.table_path()
    table.parent.mkdir(parents=True)
    shutil.copy(execution_permissions.TABLE, table)
    assert runner.generated_differences(files, tmp_path) == []
    table.write_text(table.read_text().replace('"ec2:CreateVpc": [', '"ec2:CreateVpcs": [', 1))
    assert runner.generated_differences(files, tmp_path) == [execution_permissions.table_path()]
