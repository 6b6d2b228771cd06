"""The registry stack: the ECR repositories of one account (deployed once per account).

- `baseball-playback/backend` (the API) and `baseball-playback/jobs` (imports, migrations).
- Immutable tags: an image is a git SHA or a release tag, and a tag never moves, so what ran in
  staging is byte for byte what runs in prod. `latest` is never deployed (the app stack's
  ImageTag parameter refuses it).
- Scan on push (basic scanning). Enhanced scanning (Amazon Inspector, continuous re-scans) is
  a registry-wide switch: `aws ecr put-registry-scanning-configuration --scan-type ENHANCED`.
- Encrypted with a key of its own; untagged images expire after 7 days, and only the 100
  newest tagged images are kept.
- Only this account's pipeline roles (`baseball-playback-pipeline-*`) may push: the repository
  policy denies pushes by any other principal, whatever its IAM policies say.
Deploy: `aws cloudformation deploy --template-file templates/registry.yaml --stack-name
baseball-playback-registry` in each account and region the environments run in.
"""

from __future__ import annotations

import json

from awacs import ecr
from awacs.aws import ArnNotLike, Condition, Deny, Policy, Principal, Statement
from troposphere import GetAtt, Output, Ref, Sub, Template
from troposphere.ecr import (
    EncryptionConfiguration,
    ImageScanningConfiguration,
    LifecyclePolicy,
    Repository,
)
from troposphere.kms import Alias

from playback_infra.parts import names
from playback_infra.parts.iam import customer_key, use_through_services
from playback_infra.parts.suppress import suppress
from playback_infra.parts.template import new_template, tag_component

COMPONENT = "registry"
REPOSITORIES = {"BackendRepository": "backend", "JobsRepository": "jobs"}
PUSHERS = f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{names.PIPELINE_ROLE_PREFIX}*"
PUSH_ACTIONS = [
    ecr.PutImage, ecr.InitiateLayerUpload, ecr.UploadLayerPart, ecr.CompleteLayerUpload,
    ecr.BatchDeleteImage,
]  # fmt: skip
UNTAGGED_DAYS = 7
TAGGED_KEPT = 100
LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {UNTAGGED_DAYS} days",
                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                              "countUnit": "days", "countNumber": UNTAGGED_DAYS},
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep the {TAGGED_KEPT} newest tagged images",
                "selection": {"tagStatus": "tagged", "tagPatternList": ["*"],
                              "countType": "imageCountMoreThan", "countNumber": TAGGED_KEPT},
                "action": {"type": "expire"},
            },
        ]
    },
    sort_keys=True,
)  # fmt: skip


def build() -> Template:
    t = new_template("container registry (ECR repositories of one account)")
    key = customer_key(
        "RegistryKey",
        "Baseball Playback: container images",
        [use_through_services("UseThroughEcr", ["ecr"])],
    )
    key.DeletionPolicy = key.UpdateReplacePolicy = "Retain"
    t.add_resource(key)
    t.add_resource(
        Alias(
            "RegistryKeyAlias", AliasName="alias/baseball-playback/registry", TargetKeyId=Ref(key)
        )
    )
    for title, name in REPOSITORIES.items():
        repository = t.add_resource(
            suppress(
                Repository(
                    title,
                    # Images are release artifacts: a stack operation never takes them away.
                    DeletionPolicy="Retain",
                    UpdateReplacePolicy="Retain",
                    RepositoryName=f"baseball-playback/{name}",
                    ImageTagMutability="IMMUTABLE",
                    ImageScanningConfiguration=ImageScanningConfiguration(ScanOnPush=True),
                    EncryptionConfiguration=EncryptionConfiguration(
                        EncryptionType="KMS", KmsKey=GetAtt(key, "Arn")
                    ),
                    LifecyclePolicy=LifecyclePolicy(LifecyclePolicyText=LIFECYCLE),
                    RepositoryPolicyText=Policy(
                        Version="2012-10-17",
                        Statement=[
                            Statement(
                                Sid="OnlyThePipelinePushes",
                                Effect=Deny,
                                Principal=Principal("*"),
                                Action=PUSH_ACTIONS,
                                Condition=Condition(ArnNotLike("aws:PrincipalArn", Sub(PUSHERS))),
                            )
                        ],
                    ),
                ),
                {
                    "CKV_AWS_32": "The policy's only statement denies pushes to every principal but the pipeline; it grants nothing"
                },
            )
        )
        t.add_output(
            Output(
                f"{title}Uri",
                Description=f"URI of the {name} images",
                Value=GetAtt(repository, "RepositoryUri"),
            )
        )
    tag_component(t, COMPONENT)
    return t
