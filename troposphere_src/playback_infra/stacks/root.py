"""The root stack: nests every stack of an environment and wires them together.

Wiring is by name (see `parts.values`): a child's parameter is fed from the sibling whose
output has the same name, or else from the root parameter of that name, which the
environment's parameter file sets. The root re-exports every child output under its name.
"""

from __future__ import annotations

from collections.abc import Callable

from troposphere import And, Equals, GetAtt, Join, Not, Or, Ref, Template
from troposphere.cloudformation import Stack

from playback_infra.parts import values
from playback_infra.parts.suppress import suppress
from playback_infra.parts.template import new_template

PACKAGED = (
    "Local TemplateURL on purpose: `aws cloudformation package` uploads the child and "
    "rewrites the URL, and cfn-lint follows the local file to check the wiring"
)


class WiringError(Exception):
    """Two children produce the same value."""


def _root_value(name: str):
    """A root parameter passed down; nested stack parameters take strings, so lists are joined."""
    if values.VALUES[name].type.startswith(("List<", "CommaDelimitedList")):
        return Join(",", Ref(name))
    return Ref(name)


def build(
    children: dict[str, tuple[str, Template]],
    template_url: Callable[[str], object] | None = None,
    description: str = "environment root (nests every stack of one environment)",
) -> Template:
    """`children` maps each nested stack's logical ID to (template file name, template).

    A child's TemplateURL is its file name (default: `aws cloudformation package` uploads the
    file and rewrites the URL), or `template_url(file name)` for a root that is not packaged.
    """
    producers: dict[str, str] = {}
    for title, (_, child) in children.items():
        for name in child.outputs:
            if name in producers:
                raise WiringError(f"{name} is produced by both {producers[name]} and {title}")
            producers[name] = title

    root = new_template(description)
    inputs = sorted(
        {
            name
            for title, (_, child) in children.items()
            for name in child.parameters
            if producers.get(name, title) == title
        }
    )
    values.consume(root, *inputs)
    for title, (file_name, child) in children.items():
        stack = Stack(
            title,
            TemplateURL=template_url(file_name) if template_url else file_name,
            Parameters={
                name: _root_value(name)
                if producers.get(name, title) == title
                else GetAtt(producers[name], f"Outputs.{name}")
                for name in sorted(child.parameters)
            },
        )
        root.add_resource(stack if template_url else suppress(stack, {"W3002": PACKAGED}))
    for name, title in sorted(producers.items()):
        values.produce(root, name, GetAtt(title, f"Outputs.{name}"))
    _add_rules(root)
    return root


def _add_rules(root: Template) -> None:
    """Deploy-time checks on the parameters, for whoever edits a parameter file by hand
    (the environment model refuses the same combinations before it writes one)."""
    no_zone = Equals(Ref(values.HOSTED_ZONE_ID), "")
    no_certificate = Equals(Ref(values.CERTIFICATE_ARN), "")
    root.add_rule(
        "OneCertificateSource",
        {
            "Assertions": [
                {
                    "Assert": Or(
                        And(no_zone, Not(no_certificate)), And(Not(no_zone), no_certificate)
                    ),
                    "AssertDescription": (
                        "Give exactly one of HostedZoneId (a certificate is issued there) and "
                        "CertificateArn (an existing certificate)"
                    ),
                }
            ]
        },
    )
    root.add_rule(
        "PrivateSubnetsReachAwsApis",
        {
            "Assertions": [
                {
                    "Assert": Or(
                        Equals(Ref(values.NAT_MODE), "single"),
                        Equals(Ref(values.NAT_MODE), "per-az"),
                        And(
                            Equals(Ref(values.ENABLE_SECRETS_MANAGER_ENDPOINT), "true"),
                            Equals(Ref(values.ENABLE_RDS_ENDPOINT), "true"),
                        ),
                    ),
                    "AssertDescription": (
                        "NatMode none or public-ips needs EnableSecretsManagerEndpoint and "
                        "EnableRdsEndpoint true: secret rotation (no public address) reaches "
                        "Secrets Manager and the RDS API through the NAT or the endpoints"
                    ),
                }
            ]
        },
    )
