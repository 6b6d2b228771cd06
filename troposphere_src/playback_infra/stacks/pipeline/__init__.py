"""The pipeline stack (once, in the delivery account): three CodePipeline V2 pipelines.

- **infrastructure** (this repository, on pushes to the branch that touch what is deployed):
  Source -> Build (the README's commands: `make synth`, `make test`, JUnit to a report group;
  and the jobs image) -> UpdatePipeline (CloudFormation updates this very stack from the
  fresh template; if that changed the pipeline, CodePipeline restarts on the new definition
  and this execution stops) -> one stage per environment in the catalog's order: edge-global
  in us-east-1 (CloudFormation, as the environment account's deploy role), plan (a change set
  of the root with nested stacks; a replaced or removed stateful resource fails it before
  anything runs), a manual approval linking the change set (production), apply, migrations,
  smoke tests (JUnit to a report group).
- **backend** (the backend repository): image build, push and scan gate -> per environment:
  migrations, then the image tag released to the environment's root stack, smoke tests.
- **frontend** (the frontend repository): npm ci, tests, production build -> per environment:
  config.json, sync with cache headers, invalidation of what changed, smoke tests.
Production stages of the backend and frontend pipelines wait for an approval too, and every
environment stage of theirs rolls back to the last good execution when it fails.
Executions are SUPERSEDED: a stage never runs two executions at once, and a newer commit
overtakes an older one waiting before a stage. Failures and approvals are mailed through a
CodeStar notification rule per pipeline.
"""

from __future__ import annotations

from collections.abc import Callable

from awacs import kms as kms_actions
from awacs import sns as sns_actions
from awacs.aws import Policy
from troposphere import Equals, GetAtt, If, Output, Parameter, Ref, Sub, Template
from troposphere.codebuild import ReportExportConfig, ReportGroup
from troposphere.codeconnections import Connection
from troposphere.codepipeline import (
    ArtifactStore,
    ArtifactStoreMap,
    EncryptionKey,
    FailureConditions,
    GitBranchFilterCriteria,
    GitConfiguration,
    GitFilePathFilterCriteria,
    GitPushFilter,
    Pipeline,
    PipelineTriggerDeclaration,
    Stages,
)
from troposphere.codestarnotifications import NotificationRule, Target
from troposphere.ecr import (
    ReplicationConfiguration,
    ReplicationConfigurationProperty,
    ReplicationDestination,
    ReplicationRule,
    RepositoryFilter,
)
from troposphere.sns import SubscriptionResource, Topic, TopicPolicy

from playback_infra.environments.catalog import delivery, environments
from playback_infra.environments.delivery import Delivery
from playback_infra.environments.model import Environment, Kind
from playback_infra.environments.web import EDGE_REGION
from playback_infra.parts import names
from playback_infra.parts.delivery import (
    ARTIFACT_KEY_ALIAS,
    add_artifact_store,
    approval_action,
    artifact_bucket_name,
    build_action,
    build_project,
    role_arn,
    source_action,
    stack_action,
)
from playback_infra.parts.iam import THIS_KEY, for_this_account
from playback_infra.parts.template import new_template, tag_component
from playback_infra.stacks.pipeline.roles import (
    Access,
    build_roles,
    pipeline_role,
    self_update_role,
)

COMPONENT = "delivery"
STACK_NAME = "baseball-playback-pipeline"
INFRA, BACKEND, FRONTEND = (f"baseball-playback-{p}" for p in ("infra", "backend", "frontend"))
CREATE_CONNECTION = "CreateConnection"
# What a push must touch to deploy the infrastructure (docs alone do not).
INFRA_PATHS = [
    "troposphere_src/**", "templates/**", "parameters/**", "pipeline/**", "database/**",
    "jobs/**", "tests/**", "Makefile", "pyproject.toml", "requirements*.txt",
]  # fmt: skip
NOTIFIED_EVENTS = [
    "codepipeline-pipeline-pipeline-execution-failed",
    "codepipeline-pipeline-manual-approval-needed",
]
# (title, name, role, buildspec, compute, docker, cache modes, timeout in minutes)
PROJECTS = (
    ("InfraBuildProject", "infra-build", "infra-build", "infra-build",
     "BUILD_GENERAL1_MEDIUM", False, ("LOCAL_CUSTOM_CACHE",), 60),
    ("JobsImageProject", "image-jobs", "image", "backend-build",
     "BUILD_GENERAL1_SMALL", True, ("LOCAL_DOCKER_LAYER_CACHE",), 30),
    ("BackendImageProject", "image-backend", "image", "backend-build",
     "BUILD_GENERAL1_SMALL", True, ("LOCAL_DOCKER_LAYER_CACHE",), 30),
    ("SiteBuildProject", "site-build", "site-build", "frontend-build",
     "BUILD_GENERAL1_SMALL", False, ("LOCAL_CUSTOM_CACHE",), 30),
    ("SelfUpdateProject", "deployer-self-update", "deployer", "self-update",
     "BUILD_GENERAL1_SMALL", False, (), 10),
    ("PlanProject", "deployer-plan", "deployer", "plan", "BUILD_GENERAL1_SMALL", False, (), 60),
    # A first deployment creates a database and a distribution: hours, not minutes.
    ("ApplyProject", "deployer-apply", "deployer", "apply", "BUILD_GENERAL1_SMALL", False, (), 240),
    ("MigrateProject", "deployer-migrate", "deployer", "migrate",
     "BUILD_GENERAL1_SMALL", False, (), 60),
    ("ReleaseProject", "deployer-release", "deployer", "release-image",
     "BUILD_GENERAL1_SMALL", False, (), 120),
    ("PublishProject", "deployer-publish", "deployer", "publish-site",
     "BUILD_GENERAL1_SMALL", False, (), 30),
    ("SmokeProject", "deployer-smoke", "deployer", "smoke", "BUILD_GENERAL1_SMALL", False, (), 15),
)  # fmt: skip
# Report groups the buildspecs write to (`reports:` key), by project.
REPORTS = {"InfraBuildProject": "pytest", "SmokeProject": "smoke"}


def build() -> Template:
    return pipeline_template(delivery(), environments())


def pipeline_template(d: Delivery, envs: tuple[Environment, ...]) -> Template:
    t = new_template("delivery pipelines: infrastructure (self-mutating), backend, frontend")
    params = _parameters(t)
    t.add_rule(
        "PipelineHome",
        {
            "Assertions": [
                {
                    "Assert": Equals(Ref("AWS::Region"), d.region),
                    "AssertDescription": f"The pipelines live in {d.region} (the delivery "
                    "model's region): deploy this stack there",
                },
                {
                    "Assert": Equals(Ref("AWS::AccountId"), d.account_id),
                    "AssertDescription": f"The pipelines live in account {d.account_id} (the "
                    "delivery model's account_id): deploy with that account's credentials",
                },
            ]
        },
    )
    t.add_condition(CREATE_CONNECTION, Equals(Ref(params["ConnectionArn"]), ""))
    accounts = sorted({env.account_id for env in envs})
    key, bucket = add_artifact_store(t, accounts)
    connection = t.add_resource(
        Connection(
            "RepositoryConnection",
            Condition=CREATE_CONNECTION,
            ConnectionName="baseball-playback",
            ProviderType="GitHub",
        )
    )
    connection_arn = If(CREATE_CONNECTION, Ref(connection), Ref(params["ConnectionArn"]))
    topic = _notification_topic(t, key, params["NotificationEmail"])
    # Each environment's alarm address hears of its pipelines' failures and approvals too.
    subscribed = {d.notification_email}
    for env in envs:
        if env.alarm_email not in subscribed:
            subscribed.add(env.alarm_email)
            t.add_resource(
                SubscriptionResource(
                    f"{_stage_name(env)}AlarmEmailSubscription",
                    TopicArn=Ref(topic),
                    Protocol="email",
                    Endpoint=env.alarm_email,
                )
            )
    regions = sorted({d.region, EDGE_REGION, *(env.region for env in envs)})
    access = Access(
        bucket_arns=[
            f"arn:${{AWS::Partition}}:s3:::{artifact_bucket_name('${AWS::AccountId}', r)}"
            for r in sorted(regions, key=lambda r: r != d.region)
        ],
        key=key,
        other_regions=[r for r in regions if r != d.region],
        topic=topic,
        connection=connection_arn,
        deploy_roles=[role_arn(a, names.PIPELINE_DEPLOY_ROLE) for a in accounts],
        pipeline_names=[INFRA, BACKEND, FRONTEND],
    )
    roles = build_roles(access, INFRA)
    codepipeline_role = t.add_resource(pipeline_role(access))
    self_update = t.add_resource(self_update_role(access, key))
    for role in roles.values():
        t.add_resource(role)
    projects = {}
    for title, name, role, spec, compute, docker, cache, timeout in PROJECTS:
        project, log_group = build_project(
            title,
            f"baseball-playback-{name}",
            roles[role],
            key,
            spec=spec,
            compute=compute,
            docker=docker,
            cache_modes=cache,
            timeout_minutes=timeout,
        )
        projects[title] = t.add_resource(project)
        t.add_resource(log_group)
    for title, report in REPORTS.items():
        t.add_resource(
            ReportGroup(
                f"{title.removesuffix('Project')}Reports",
                Name=f"{projects[title].Name}-{report}",
                Type="TEST",
                DeleteReports=True,
                ExportConfig=ReportExportConfig(ExportConfigType="NO_EXPORT"),
            )
        )
    stores = _artifact_stores(d, regions, key, bucket)
    sources = {"connection": connection_arn, "branch": Ref(params["Branch"])}
    pipelines = {
        INFRA: _infra_stages(d, envs, projects, self_update, sources, Ref(params["InfraRepository"]), topic),
        BACKEND: _backend_stages(envs, projects, sources, params, topic),
        FRONTEND: _frontend_stages(envs, projects, sources, params, topic),
    }  # fmt: skip
    for name, (title, stages, trigger_source, paths) in pipelines.items():
        pipeline = t.add_resource(
            Pipeline(
                title,
                Name=name,
                PipelineType="V2",
                ExecutionMode="SUPERSEDED",
                RestartExecutionOnUpdate=name == INFRA,
                RoleArn=GetAtt(codepipeline_role, "Arn"),
                Stages=stages,
                Triggers=[_push_trigger(trigger_source, Ref(params["Branch"]), paths)],
                **stores,
            )
        )
        t.add_resource(
            NotificationRule(
                f"{title}Notifications",
                Name=f"{name}-failures-and-approvals",
                DetailType="FULL",
                EventTypeIds=NOTIFIED_EVENTS,
                Resource=Sub(
                    f"arn:${{AWS::Partition}}:codepipeline:${{AWS::Region}}:${{AWS::AccountId}}:{name}"
                ),
                Targets=[Target(TargetType="SNS", TargetAddress=Ref(topic))],
                DependsOn=[pipeline.title],
            )
        )
        t.add_output(Output(f"{title}Name", Value=Ref(pipeline)))
    replication = _image_replication(d, envs)
    if replication:
        t.add_resource(replication)
    t.add_output(Output("ConnectionArn", Value=connection_arn, Description="Finish the "
                        "connection's handshake once in the console (Developer Tools > Settings > Connections)"))  # fmt: skip
    t.add_output(Output("ArtifactBucketName", Value=Ref(bucket)))
    t.add_output(Output("NotificationTopicArn", Value=Ref(topic)))
    tag_component(t, COMPONENT)
    return t


def _parameters(t: Template) -> dict[str, Parameter]:
    repository = {"Type": "String", "AllowedPattern": r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
                  "ConstraintDescription": "owner/name of a repository, like octo/playback"}  # fmt: skip
    given = {
        "ConnectionArn": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": r"^$|^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$",
            "ConstraintDescription": "empty (the stack creates a connection) or a CodeConnections connection ARN",
            "Description": "An existing CodeConnections connection to the repositories; empty: create one",
        },
        "InfraRepository": {**repository, "Description": "This repository (owner/name)"},
        "BackendRepository": {**repository, "Description": "The backend repository"},
        "FrontendRepository": {**repository, "Description": "The frontend repository"},
        "Branch": {
            "Type": "String",
            "Default": "main",
            "AllowedPattern": r"^[A-Za-z0-9._/-]{1,100}$",
            "Description": "The branch every pipeline releases",
        },
        "NotificationEmail": {
            "Type": "String",
            "AllowedPattern": r"^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
            "ConstraintDescription": "an email address",
            "Description": "Failed executions and waiting approvals are mailed here",
        },
    }
    return {name: t.add_parameter(Parameter(name, **props)) for name, props in given.items()}


def parameter_file(d: Delivery) -> dict:
    """parameters/delivery/pipeline.json: the self-update action's template configuration."""
    return {
        "Parameters": {
            "ConnectionArn": d.connection_arn,
            "InfraRepository": d.infra_repository,
            "BackendRepository": d.backend_repository,
            "FrontendRepository": d.frontend_repository,
            "Branch": d.branch,
            "NotificationEmail": d.notification_email,
        },
        "Tags": {"Project": "baseball-playback", "Component": COMPONENT},
    }


def _notification_topic(t: Template, key, email: Parameter) -> Topic:
    topic = t.add_resource(
        Topic("NotificationTopic", TopicName=STACK_NAME, KmsMasterKeyId=GetAtt(key, "Arn"))
    )
    t.add_resource(
        TopicPolicy(
            "NotificationTopicPolicy",
            Topics=[Ref(topic)],
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    for_this_account(
                        "CodeStarNotifications",
                        ["codestar-notifications.amazonaws.com"],
                        [sns_actions.Publish],
                        Ref(topic),
                    )
                ],
            ),
        )
    )
    t.add_resource(
        SubscriptionResource(
            "NotificationEmailSubscription",
            TopicArn=Ref(topic),
            Protocol="email",
            Endpoint=Ref(email),
        )
    )
    key.KeyPolicy.Statement.append(
        for_this_account(
            "CodeStarNotifications",
            ["codestar-notifications.amazonaws.com"],
            [kms_actions.GenerateDataKey, kms_actions.Decrypt],
            THIS_KEY,
        )
    )
    return topic


def _artifact_stores(d: Delivery, regions: list[str], key, bucket) -> dict:
    """One store per region an action runs in: this stack's in the pipeline's region, the
    `pipeline-artifacts` stack's (same names) in every other."""
    home = ArtifactStore(
        Type="S3",
        Location=Ref(bucket),
        EncryptionKey=EncryptionKey(Type="KMS", Id=GetAtt(key, "Arn")),
    )
    if regions == [d.region]:
        return {"ArtifactStore": home}
    stores = [ArtifactStoreMap(Region=d.region, ArtifactStore=home)]
    for region in regions:
        if region != d.region:
            alias = Sub(
                f"arn:${{AWS::Partition}}:kms:{region}:${{AWS::AccountId}}:{ARTIFACT_KEY_ALIAS}"
            )
            stores.append(
                ArtifactStoreMap(
                    Region=region,
                    ArtifactStore=ArtifactStore(
                        Type="S3",
                        Location=Sub(artifact_bucket_name("${AWS::AccountId}", region)),
                        EncryptionKey=EncryptionKey(Type="KMS", Id=alias),
                    ),
                )
            )
    return {"ArtifactStores": stores}


def _push_trigger(source: str, branch, paths: list[str] | None) -> PipelineTriggerDeclaration:
    push = GitPushFilter(Branches=GitBranchFilterCriteria(Includes=[branch]))
    if paths:
        push.FilePaths = GitFilePathFilterCriteria(Includes=paths)
    return PipelineTriggerDeclaration(
        ProviderType="CodeStarSourceConnection",
        GitConfiguration=GitConfiguration(SourceActionName=source, Push=[push]),
    )


def _target(env: Environment) -> dict[str, str]:
    """What every deploying build needs to act in the environment's account."""
    return {
        "ENVIRONMENT": env.name,
        "DEPLOY_ROLE_ARN": f"arn:${{AWS::Partition}}:iam::{env.account_id}:role/{names.PIPELINE_DEPLOY_ROLE}",
    }


def _stage_name(env: Environment) -> str:
    return env.name.capitalize()


def _approval(env: Environment, topic, summary: str, link: str, run_order: int) -> list:
    if env.kind is not Kind.PRODUCTION:
        return []
    return [approval_action("Approve", topic, summary, link, run_order)]


def _infra_stages(d, envs, projects, self_update, sources, repository, topic):
    stages = [
        Stages(Name="Source", Actions=[source_action("Source", sources["connection"], repository, sources["branch"], triggered=True, clone=True)]),
        Stages(
            Name="Build",
            Actions=[
                build_action("Build", projects["InfraBuildProject"], ["Source"], outputs=("Build",)),
                _image_build("JobsImage", projects["JobsImageProject"], "Source", "jobs", "jobs/Dockerfile"),
            ],
        ),
        Stages(
            Name="UpdatePipeline",
            Actions=[
                stack_action(
                    "SelfUpdate",
                    stack_name=Ref("AWS::StackName"),
                    template="templates/pipeline.yaml",
                    configuration="parameters/delivery/pipeline.json",
                    capabilities="CAPABILITY_NAMED_IAM",
                    execution_role=GetAtt(self_update, "Arn"),
                ),
                build_action(
                    "RestartIfChanged",
                    projects["SelfUpdateProject"],
                    ["Build"],
                    variables={"PIPELINE_NAME": INFRA, "EXECUTION_ID": "#{codepipeline.PipelineExecutionId}"},
                    run_order=2,
                ),
            ],
        ),
    ]  # fmt: skip
    for env in envs:
        stage = _stage_name(env)
        target = _target(env)
        plan = f"Plan{stage}"
        stages.append(
            Stages(
                Name=stage,
                Actions=[
                    stack_action(
                        "EdgeGlobal",
                        stack_name=f"{env.stack_name}-edge-global",
                        template="templates/edge-global.yaml",
                        configuration=f"parameters/edge-global/{env.name}.json",
                        capabilities="CAPABILITY_IAM,CAPABILITY_AUTO_EXPAND",
                        execution_role=role_arn(env.account_id, names.PIPELINE_EXECUTION_ROLE),
                        region=EDGE_REGION if d.region != EDGE_REGION else None,
                        action_role=role_arn(env.account_id, names.PIPELINE_DEPLOY_ROLE),
                        namespace=f"Edge{stage}",
                    ),
                    build_action(
                        "Plan",
                        projects["PlanProject"],
                        ["Build"],
                        variables={
                            **target,
                            "ARTIFACT_BUCKET": artifact_bucket_name(d.account_id, env.region),
                            "CHANGE_SET_NAME": "pipeline-#{codepipeline.PipelineExecutionId}",
                            "SITE_CERTIFICATE_ARN": f"#{{Edge{stage}.SiteCertificateArn}}",
                            "SITE_WEB_ACL_ARN": f"#{{Edge{stage}.SiteWebAclArn}}",
                            "JOBS_IMAGE_TAG": "#{JobsImage.IMAGE_TAG}",
                        },
                        namespace=plan,
                        run_order=2,
                    ),
                    *_approval(env, topic, f"Review the {env.name} change set before it runs", f"#{{{plan}.CHANGE_SET_URL}}", 3),
                    build_action(
                        "Apply",
                        projects["ApplyProject"],
                        ["Build"],
                        variables={**target, "CHANGE_SET_NAME": f"#{{{plan}.CHANGE_SET_NAME}}", "HAS_CHANGES": f"#{{{plan}.HAS_CHANGES}}"},
                        run_order=4,
                    ),
                    build_action("Migrate", projects["MigrateProject"], ["Build"], variables=target, run_order=5),
                    build_action("Smoke", projects["SmokeProject"], ["Build"], variables=target, run_order=6),
                ],
            )
        )  # fmt: skip
    return "InfraPipeline", stages, "Source", INFRA_PATHS


def _image_build(name: str, project, source: str, repository: str, dockerfile: str):
    """Build, push (tagged with the commit) and scan-gate an image of this account's registry;
    the tag is the action's `#{name.IMAGE_TAG}` variable."""
    return build_action(
        name,
        project,
        [source],
        variables={
            "REPOSITORY_URI": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/"
            f"baseball-playback/{repository}",
            "DOCKERFILE": dockerfile,
        },
        namespace=name,
    )


def _release_sources(name: str, sources, repository) -> Stages:
    """The released repository (which triggers) and this repository (the tools, at main)."""
    return Stages(
        Name="Source",
        Actions=[
            source_action(name, sources["connection"], repository, sources["branch"], triggered=True),
            source_action("Infra", sources["connection"], Ref("InfraRepository"), sources["branch"], triggered=False),
        ],
    )  # fmt: skip


def _release_stages(envs, topic, what: str, actions: Callable[[dict], list]) -> list[Stages]:
    """One stage per environment releasing `what`: an approval first in production, then
    `actions(target)` (the environment's deploying variables); a failed stage rolls back."""
    return [
        Stages(
            Name=_stage_name(env),
            Actions=[
                *_approval(env, topic, f"Release {what} to {env.name}", None, 1),
                *actions(_target(env)),
            ],
            OnFailure=FailureConditions(Result="ROLLBACK"),
        )
        for env in envs
    ]


def _backend_stages(envs, projects, sources, params, topic):
    stages = [
        _release_sources("Backend", sources, Ref(params["BackendRepository"])),
        Stages(
            Name="Build",
            Actions=[
                _image_build("Image", projects["BackendImageProject"], "Backend", "backend", "Dockerfile")
            ],
        ),
    ]  # fmt: skip
    stages += _release_stages(envs, topic, "backend image #{Image.IMAGE_TAG}", lambda target: [
        build_action("Migrate", projects["MigrateProject"], ["Infra"], variables=target, run_order=2),
        build_action("Release", projects["ReleaseProject"], ["Infra"], variables={**target, "IMAGE_TAG": "#{Image.IMAGE_TAG}"}, run_order=3),
        build_action("Smoke", projects["SmokeProject"], ["Infra"], variables=target, run_order=4),
    ])  # fmt: skip
    return "BackendPipeline", stages, "Backend", None


def _frontend_stages(envs, projects, sources, params, topic):
    stages = [
        _release_sources("Frontend", sources, Ref(params["FrontendRepository"])),
        Stages(
            Name="Build",
            Actions=[build_action("Build", projects["SiteBuildProject"], ["Frontend"], outputs=("Site",), variables={"BUILD_DIR": "dist"})],
        ),
    ]  # fmt: skip
    stages += _release_stages(envs, topic, "the site at #{FrontendSource.CommitId}", lambda target: [
        build_action("Publish", projects["PublishProject"], ["Infra", "Site"], variables={**target, "BUILD_VERSION": "#{FrontendSource.CommitId}"}, run_order=2),
        build_action("Smoke", projects["SmokeProject"], ["Infra"], variables=target, run_order=3),
    ])  # fmt: skip
    return "FrontendPipeline", stages, "Frontend", None


def _image_replication(d: Delivery, envs) -> ReplicationConfiguration | None:
    """Images are built once, here, and replicated to every other account and region an
    environment runs in (the pipeline-target stack's registry policy admits them there)."""
    destinations = sorted({(e.account_id, e.region) for e in envs} - {(d.account_id, d.region)})
    if not destinations:
        return None
    return ReplicationConfiguration(
        "ImageReplication",
        ReplicationConfiguration=ReplicationConfigurationProperty(
            Rules=[
                ReplicationRule(
                    Destinations=[ReplicationDestination(Region=r, RegistryId=a) for a, r in destinations],
                    RepositoryFilters=[RepositoryFilter(Filter="baseball-playback/", FilterType="PREFIX_MATCH")],
                )
            ]
        ),
    )  # fmt: skip
