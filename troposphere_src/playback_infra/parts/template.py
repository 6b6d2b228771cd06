"""Small builders every stack uses: the template itself, shared conditions, tags, retention."""

from __future__ import annotations

from typing import TypeVar

from troposphere import AWSObject, Equals, If, Join, Ref, Select, Sub, Tags, Template
from troposphere.logs import LogGroup

from playback_infra.parts import values

# Fn::If in DeletionPolicy/UpdateReplacePolicy needs the AWS::LanguageExtensions transform.
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"

R = TypeVar("R", bound=AWSObject)

HAS_THIRD_AZ = "HasThirdAz"
RETAIN_DATA = "RetainData"
AZ_INDEXES = (1, 2, 3)


def new_template(description: str, *, language_extensions: bool = False) -> Template:
    template = Template(Description=f"Baseball Playback: {description}")
    template.set_version("2010-09-09")
    if language_extensions:
        template.set_transform(LANGUAGE_EXTENSIONS)
    return template


def add_third_az_condition(template: Template) -> None:
    """`HasThirdAz`: the environment spans three AZs (consumes AzCount)."""
    values.consume(template, values.AZ_COUNT)
    template.add_condition(HAS_THIRD_AZ, Equals(Ref(values.AZ_COUNT), "3"))


def on_az(index: int) -> dict[str, str]:
    """Keyword arguments for a per-AZ resource: only the third AZ's is conditional."""
    return {"Condition": HAS_THIRD_AZ} if index == 3 else {}


def per_az_list(items: list) -> If:
    """Two or three items, by AZ count (needs `HasThirdAz`)."""
    return If(HAS_THIRD_AZ, items, items[:2])


def joined_per_az(refs: list) -> If:
    """A comma-joined id list for an output, by AZ count."""
    return If(HAS_THIRD_AZ, Join(",", refs), Join(",", refs[:2]))


def select_az(index: int, list_parameter: str) -> Select:
    return Select(index - 1, Ref(list_parameter))


def name_tag(suffix: str) -> Tags:
    return Tags(Name=Sub(f"${{{values.ENVIRONMENT_NAME}}}-{suffix}"))


def add_retain_condition(template: Template) -> None:
    """`RetainData`: staging and prod keep stateful resources (consumes RetainStatefulResources)."""
    values.consume(template, values.RETAIN_STATEFUL_RESOURCES)
    template.add_condition(RETAIN_DATA, Equals(Ref(values.RETAIN_STATEFUL_RESOURCES), "true"))


def stateful(resource: R, policy: str = "Retain") -> R:
    """Keep (or, with policy="Snapshot", snapshot) the resource on stack deletion and on
    replacement where `RetainData` holds; delete it in development.

    The template needs the LanguageExtensions transform and the RetainData condition.
    """
    resource.DeletionPolicy = If(RETAIN_DATA, policy, "Delete")
    resource.UpdateReplacePolicy = If(RETAIN_DATA, policy, "Delete")
    return resource


def tag_component(template: Template, component: str) -> None:
    """Add the Component tag to every taggable resource; Project, Environment, CostCenter and
    Owner come from the root stack's tags, which CloudFormation propagates."""
    for resource in template.resources.values():
        if "Tags" not in resource.props:
            continue
        existing = resource.properties.get("Tags")
        if resource.props["Tags"][0] is dict:  # a few types take tags as a plain map
            resource.Tags = {"Component": component, **(existing or {})}
        elif existing is None:
            resource.Tags = Tags(Component=component)
        elif isinstance(existing, Tags):
            resource.Tags = Tags(Component=component) + existing
        else:
            raise TypeError(f"{resource.title}: Tags of type {type(existing).__name__}")


def logs_key_log_group(title: str, retention_parameter: str, **properties) -> LogGroup:
    """A log group encrypted with the environment's logs key (the stack consumes LogsKeyArn),
    kept the days `retention_parameter` says, and retained as `stateful` says."""
    return stateful(
        LogGroup(
            title,
            KmsKeyId=Ref(values.LOGS_KEY_ARN),
            RetentionInDays=Ref(retention_parameter),
            **properties,
        )
    )
