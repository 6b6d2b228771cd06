"""The environment model: one typed, validated object per deployment environment.

An environment is declared with `define(name, kind, **fields)`: the kind's defaults are
filled in, every field is type-checked and validated, and any problem raises `ConfigError`
listing each problem with the environment, the field and what would be valid. Nothing is
written before all environments validate.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, ip_network
from typing import Any

from playback_infra.environments import app as app_rules
from playback_infra.environments import database as database_rules
from playback_infra.environments import ingress as ingress_rules
from playback_infra.environments import jobs as jobs_rules
from playback_infra.environments import web as web_rules
from playback_infra.environments.app import App
from playback_infra.environments.database import Database, Insights
from playback_infra.environments.ingress import Ingress
from playback_infra.environments.jobs import Jobs
from playback_infra.environments.layout import SubnetLayout, plan_subnets
from playback_infra.environments.regions import (
    CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS,
    SUPPORTED_REGIONS,
)
from playback_infra.environments.regions import unsupported as unsupported_region
from playback_infra.environments.retention import retention_problem
from playback_infra.environments.web import Features, Web
from playback_infra.errors import ConfigError
from playback_infra.parts.values import LOG_RETENTION_DAYS
from playback_infra.suggest import did_you_mean

PROJECT = "baseball-playback"

# The ALB needs subnets of /27 or larger with 8 free addresses; RDS needs /28 or larger.
MIN_PUBLIC_SUBNET_PREFIX = 27
MIN_DATA_SUBNET_PREFIX = 28
# A jobs task (Retrosheet import, migrations) may run beside the service in any AZ.
JOB_TASK_RESERVE = 4
# Interface endpoints put one network interface per endpoint in every app subnet.
ENDPOINT_INTERFACES = {"ecr": 2, "logs": 1, "secretsmanager": 1, "rds": 1}
# Each backend task opens at most this many database connections (its Knex pool).
KNEX_POOL_MAX = 10
# Connections kept for what is not the backend: an import or migration, the rotation
# functions, an operator's session.
OTHER_CONNECTIONS = 10
# The serverless narration cache puts one interface in every app subnet.
CACHE_INTERFACES = 1
# The site canary: a Synthetics rate() schedule of minutes; production pages within ~10.
MIN_CANARY_MINUTES, MAX_CANARY_MINUTES = 1, 60
MAX_PRODUCTION_CANARY_MINUTES = 5

# An environment's name: 2-15 characters. Physical names embed it; the AWS contracts' limits
# rule checks every name with one of MAX_NAME_LENGTH characters.
MAX_NAME_LENGTH = 15
_NAME = re.compile(rf"^[a-z][a-z0-9-]{{1,{MAX_NAME_LENGTH - 1}}}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_HOSTNAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{1,256}$")


class Kind(enum.StrEnum):
    """What an environment is for; decides defaults and which rules apply."""

    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class NatMode(enum.StrEnum):
    """Outbound internet for the private-app subnets: none, one NAT gateway, one per AZ, or
    public-ips: no NAT, the app tier routes to the internet gateway and tasks get public IPv4
    addresses (their security groups admit nothing from outside; development only)."""

    NONE = "none"
    SINGLE = "single"
    PER_AZ = "per-az"
    PUBLIC_IPS = "public-ips"


class InterfaceEndpoint(enum.StrEnum):
    """Optional VPC interface endpoints (the S3 gateway endpoint is always created)."""

    ECR = "ecr"  # ecr.api and ecr.dkr
    LOGS = "logs"
    SECRETS_MANAGER = "secretsmanager"
    RDS = "rds"  # the RDS API, which the secret rotation functions ask for the database's host


# Behind a NAT the RDS API needs no endpoint of its own: a rotation calls it once a month.
NAT_ENDPOINTS = frozenset(
    {InterfaceEndpoint.ECR, InterfaceEndpoint.LOGS, InterfaceEndpoint.SECRETS_MANAGER}
)
# What the secret rotation functions (no public address; hosted alternating-users rotation
# with the RDS-managed master secret, which holds no host) call without a NAT.
ROTATION_ENDPOINTS = frozenset({InterfaceEndpoint.SECRETS_MANAGER, InterfaceEndpoint.RDS})


class Architecture(enum.StrEnum):
    """The CPU architecture of the images an environment runs (the backend's and the jobs')."""

    ARM64 = "ARM64"
    X86_64 = "X86_64"


class AlbIngress(enum.StrEnum):
    """Who may reach the ALB: only CloudFront (through its origin-facing prefix list) or anyone."""

    CLOUDFRONT = "cloudfront"
    INTERNET = "internet"


@dataclass(frozen=True, kw_only=True)
class Tags:
    """Cost-allocation tags; Project and Environment are added from the model."""

    cost_center: str
    owner: str


@dataclass(frozen=True, kw_only=True)
class Environment:
    """One deployment environment. Defaults come from its kind (see `KIND_DEFAULTS`)."""

    name: str
    """Short lowercase name, used in stack and resource names (`dev`)."""
    kind: Kind
    account_id: str
    """The 12-digit AWS account the environment deploys to; `deploy` refuses any other."""
    region: str
    az_count: int
    """2 or 3 availability zones."""
    availability_zones: tuple[str, ...]
    """AZ names; default the region's a, b, c. Override where a letter is missing."""
    vpc_cidr: str
    """Private IPv4 range, /16 to about /23 (the subnets must stay usable)."""
    nat_mode: NatMode
    interface_endpoints: frozenset[InterfaceEndpoint]
    endpoints_in_one_az: bool
    """Interface endpoints in the first AZ only: half the hourly price in two AZs, reached from
    the other AZ across zones, and lost with that AZ (not in production)."""
    flow_log_retention_days: int
    architecture: Architecture
    """CPU architecture of the backend and jobs images and of every task that runs them: ARM64
    (Graviton, about 20% cheaper) by default. The pipelines build each image once, natively on
    this architecture, and release it to every environment, so all environments share one."""
    alb_ingress: AlbIngress
    app_port: int
    """Port the backend container listens on (a non-root user cannot bind below 1024)."""
    max_app_tasks: int
    """Most backend tasks autoscaling may run; sizes the app subnets (blue/green doubles it)."""
    canary_interval_minutes: int
    """Minutes between runs of the Synthetics canary that loads the site and calls the API's
    health route through CloudFront (1-60). Each run is billed: 30 in dev, 15 in staging,
    5 in production, where a failure pages within about 10 minutes."""
    monthly_budget_usd: int
    """The environment's AWS Budgets budget: 80% actual and 100% forecast notify the alarm
    topic. Defaults sit about a quarter above `playback-infra cost`'s estimate."""
    tags: Tags
    alarm_email: str
    site_domain: str
    """Host name users open (CloudFront alias)."""
    api_domain: str
    """Host name of the ALB origin CloudFront connects to over HTTPS."""
    database: Database
    """The RDS for MySQL instance; give a dict to change some fields of the kind's default."""
    ingress: Ingress
    """The ALB: its certificate (required), health checks, WAF; a dict changes the defaults."""
    app: App
    """The backend's ECS service; a dict changes some fields of the kind's default."""
    web: Web
    """CloudFront: the site's certificate (required), price class, edge WAF; a dict changes the defaults."""
    features: Features
    """The single-page app's feature flags (its /config.json); a dict changes the defaults."""
    jobs: Jobs
    """The jobs image and the Retrosheet import task; a dict changes the defaults."""

    @property
    def retain_data(self) -> bool:
        """Stateful resources survive stack deletion and replacement outside development."""
        return self.kind is not Kind.DEVELOPMENT

    @property
    def stack_name(self) -> str:
        return f"{PROJECT}-{self.name}"

    @property
    def network(self) -> IPv4Network:
        return IPv4Network(self.vpc_cidr)

    @property
    def subnets(self) -> SubnetLayout:
        return plan_subnets(self.network, self.az_count)

    @property
    def cloudfront_prefix_list(self) -> str:
        """The ALB's ingress prefix list, or "" when the ALB is open to the internet."""
        if self.alb_ingress is AlbIngress.INTERNET:
            return ""
        return CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS[self.region]


KIND_DEFAULTS: dict[Kind, dict[str, Any]] = {
    Kind.DEVELOPMENT: {
        "database": database_rules.DEFAULTS["development"],
        "app": app_rules.DEFAULTS["development"],
        "web": web_rules.DEFAULTS["development"][0],
        "features": web_rules.DEFAULTS["development"][1],
        "jobs": jobs_rules.DEFAULTS["development"],
        "az_count": 2,
        # No NAT gateway (about $33 a month at idle): tasks reach OpenAI and AWS with public
        # addresses; the rotation functions (no public address) need the Secrets Manager and
        # RDS endpoints, one AZ's worth.
        "nat_mode": NatMode.PUBLIC_IPS,
        "interface_endpoints": ROTATION_ENDPOINTS,
        "endpoints_in_one_az": True,
        "flow_log_retention_days": 30,
        "max_app_tasks": 4,
        "canary_interval_minutes": 30,
        "monthly_budget_usd": 100,
    },
    Kind.STAGING: {
        "database": database_rules.DEFAULTS["staging"],
        "app": app_rules.DEFAULTS["staging"],
        "web": web_rules.DEFAULTS["staging"][0],
        "features": web_rules.DEFAULTS["staging"][1],
        "jobs": jobs_rules.DEFAULTS["staging"],
        "az_count": 2,
        "nat_mode": NatMode.SINGLE,
        "interface_endpoints": NAT_ENDPOINTS,
        "endpoints_in_one_az": False,
        "flow_log_retention_days": 90,
        "max_app_tasks": 6,
        "canary_interval_minutes": 15,
        "monthly_budget_usd": 300,
    },
    Kind.PRODUCTION: {
        "database": database_rules.DEFAULTS["production"],
        "app": app_rules.DEFAULTS["production"],
        "web": web_rules.DEFAULTS["production"][0],
        "features": web_rules.DEFAULTS["production"][1],
        "jobs": jobs_rules.DEFAULTS["production"],
        "az_count": 3,
        "nat_mode": NatMode.PER_AZ,
        "interface_endpoints": NAT_ENDPOINTS,
        "endpoints_in_one_az": False,
        "flow_log_retention_days": 365,
        "max_app_tasks": 20,
        "canary_interval_minutes": 5,
        "monthly_budget_usd": 1000,
    },
}
COMMON_DEFAULTS: dict[str, Any] = {
    "alb_ingress": AlbIngress.CLOUDFRONT,
    "app_port": 3000,
    "architecture": Architecture.ARM64,
}


@dataclass(frozen=True)
class Problem:
    environment: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"environment '{self.environment}', field '{self.field}': {self.message}"


def define(name: str, kind: Kind | str, **fields: Any) -> Environment:
    """Build and validate an environment from its kind's defaults and the given fields."""
    label = name if isinstance(name, str) else repr(name)
    problems: list[Problem] = []
    kind_value = _coerce_enum(Kind, kind)
    if kind_value is None:
        raise ConfigError([Problem(label, "kind", _one_of(kind, Kind))])
    values = {
        **COMMON_DEFAULTS,
        **KIND_DEFAULTS[kind_value],
        **fields,
        "name": name,
        "kind": kind_value,
    }
    for section, default in (
        ("database", KIND_DEFAULTS[kind_value]["database"]),
        ("ingress", Ingress()),
        ("app", KIND_DEFAULTS[kind_value]["app"]),
        ("web", KIND_DEFAULTS[kind_value]["web"]),
        ("features", KIND_DEFAULTS[kind_value]["features"]),
        ("jobs", KIND_DEFAULTS[kind_value]["jobs"]),
    ):
        if isinstance(fields.get(section), Mapping):
            values[section], found = _section(default, fields[section])
            problems += [Problem(label, f"{section}.{name}", message) for name, message in found]
    if "region" in values and "availability_zones" not in values:
        zones = ("a", "b", "c")[
            : values.get("az_count", 0) if _is_int(values.get("az_count")) else 0
        ]
        values["availability_zones"] = tuple(f"{values['region']}{z}" for z in zones)

    known = {f.name: f for f in dataclasses.fields(Environment)}
    for unknown in sorted(set(values) - set(known)):
        problems.append(Problem(label, unknown, unknown_field(unknown, known)))
    for missing in sorted(set(known) - set(values)):
        problems.append(Problem(label, missing, "required field is missing"))
    for field_name in known.keys() & values.keys():
        value, problem = _typed(field_name, values[field_name])
        if problem:
            problems.append(Problem(label, field_name, problem))
        values[field_name] = value
    if problems:
        raise ConfigError(problems)

    env = Environment(**values)
    problems = [Problem(env.name, f, m) for f, m in _rule_violations(env)]
    if problems:
        raise ConfigError(problems)
    return env


def validate_catalog(
    environments: Iterable[Environment],
    committed_ranges: Callable[[], Mapping[str, str]] | None = None,
) -> dict[str, Environment]:
    """Rules across environments: unique names and VPC ranges that never overlap.

    Of two overlapping environments the one whose range was edited is blamed: the one whose
    `vpc_cidr` differs from `committed_ranges()` (name -> the range last generated, asked only
    when two overlap), else the later one; the message offers a free range of the same size.
    """
    envs = tuple(environments)
    by_name: dict[str, Environment] = {}
    problems: list[Problem] = []
    for env in envs:
        if env.name in by_name:
            problems.append(Problem(env.name, "name", "defined twice; names must be unique"))
            continue
        for other in by_name.values():
            if env.network.overlaps(other.network):
                committed = committed_ranges() if committed_ranges else {}
                edited, kept = (
                    (other, env)
                    if committed.get(env.name) == env.vpc_cidr
                    and committed.get(other.name, other.vpc_cidr) != other.vpc_cidr
                    else (env, other)
                )
                problems.append(
                    Problem(
                        edited.name,
                        "vpc_cidr",
                        f"{edited.vpc_cidr} overlaps {kept.name}'s {kept.vpc_cidr}; give every "
                        "environment its own range so VPCs can be peered or joined by VPN: "
                        f"{_free_range(edited, envs)} is free",
                    )
                )
        by_name[env.name] = env
    if problems:
        raise ConfigError(problems)
    return by_name


_PRIVATE_BLOCKS = tuple(ip_network(r) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def _free_range(env: Environment, envs: Iterable[Environment]) -> str:
    """The first range of `env`'s size from its own on (in its private block, wrapping around)
    that overlaps no other environment's."""
    taken = [other.network for other in envs if other is not env]
    block = next((b for b in _PRIVATE_BLOCKS if env.network.subnet_of(b)), _PRIVATE_BLOCKS[0])
    size = env.network.num_addresses
    count = block.num_addresses // size
    start = (int(env.network.network_address) - int(block.network_address)) // size
    for index in itertools.chain(range(start, count), range(start)):
        candidate = IPv4Network((int(block.network_address) + index * size, env.network.prefixlen))
        if not any(candidate.overlaps(t) for t in taken):
            return str(candidate)
    return f"no /{env.network.prefixlen} in {block}"


def unknown_field(name: str, valid: Iterable[str]) -> str:
    """The message for a field that does not exist: the close one, if any, then every valid one."""
    valid = list(valid)
    return f"unknown field; {did_you_mean(name, valid, end='? ')}valid fields: {', '.join(valid)}"


# --- field types -----------------------------------------------------------------------------

_ENUM_FIELDS = {
    "kind": Kind, "nat_mode": NatMode, "alb_ingress": AlbIngress, "architecture": Architecture,
}  # fmt: skip
_INT_FIELDS = {
    "az_count", "flow_log_retention_days", "app_port", "max_app_tasks", "monthly_budget_usd",
    "canary_interval_minutes",
}  # fmt: skip
_STR_FIELDS = {
    "name", "account_id", "region", "vpc_cidr", "alarm_email", "site_domain", "api_domain",
}  # fmt: skip


_BOOL_FIELDS = {"endpoints_in_one_az"}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _one_of(value: Any, choices: type[enum.StrEnum]) -> str:
    return f"{value!r} is not valid; use one of: {', '.join(c.value for c in choices)}"


def _coerce_enum(choices: type[enum.StrEnum], value: Any) -> Any:
    try:
        return choices(value)
    except ValueError:
        return None


def _typed(field_name: str, value: Any) -> tuple[Any, str | None]:
    """The value in its field's type, or a message saying what type was expected."""
    if field_name in _ENUM_FIELDS:
        coerced = _coerce_enum(_ENUM_FIELDS[field_name], value)
        return (
            (coerced, None)
            if coerced is not None
            else (value, _one_of(value, _ENUM_FIELDS[field_name]))
        )
    if field_name in _INT_FIELDS:
        return value, None if _is_int(value) else f"expected a whole number, got {_describe(value)}"
    if field_name in _BOOL_FIELDS:
        return value, None if isinstance(
            value, bool
        ) else f"expected True or False, got {_describe(value)}"
    if field_name in _STR_FIELDS:
        return value, None if isinstance(value, str) else f"expected text, got {_describe(value)}"
    if field_name == "interface_endpoints":
        if isinstance(value, str) or not isinstance(value, Iterable):
            return value, f"expected a set of endpoints, got {_describe(value)}"
        coerced = {_coerce_enum(InterfaceEndpoint, v) for v in value}
        bad = [v for v in value if _coerce_enum(InterfaceEndpoint, v) is None]
        if bad:
            return value, _one_of(bad[0], InterfaceEndpoint)
        return frozenset(coerced), None
    if field_name == "availability_zones":
        if isinstance(value, str) or not isinstance(value, Iterable):
            return value, f"expected a list of AZ names, got {_describe(value)}"
        return tuple(value), None
    if field_name == "database" and not isinstance(value, Database):
        return value, f"expected Database(...) or a dict of its fields, got {_describe(value)}"
    if field_name == "app" and not isinstance(value, App):
        return value, f"expected App(...) or a dict of its fields, got {_describe(value)}"
    if field_name == "ingress" and not isinstance(value, Ingress):
        return value, f"expected Ingress(...) or a dict of its fields, got {_describe(value)}"
    if field_name == "web" and not isinstance(value, Web):
        return value, f"expected Web(...) or a dict of its fields, got {_describe(value)}"
    if field_name == "jobs" and not isinstance(value, Jobs):
        return value, f"expected Jobs(...) or a dict of its fields, got {_describe(value)}"
    if field_name == "features" and not isinstance(value, Features):
        return value, f"expected Features(...) or a dict of its fields, got {_describe(value)}"
    if field_name == "tags":
        if isinstance(value, Mapping):
            try:
                return Tags(**value), None
            except TypeError:
                return (
                    value,
                    "expected cost_center and owner, e.g. {'cost_center': 'cc-1234', 'owner': 'team'}",
                )
        if not isinstance(value, Tags):
            return value, f"expected Tags(cost_center=..., owner=...), got {_describe(value)}"
    return value, None


_SECTION_TYPES = {"str": (str,), "int": (int,), "bool": (bool,), "float": (int, float)}


def _section(default: Any, changes: Mapping[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    """`default` (a Database, App, ...) with `changes`, each type-checked; with problems, the
    default and every problem as (field, message)."""
    fields = {f.name: f for f in dataclasses.fields(default)}
    found: list[tuple[str, str]] = []
    for name, value in changes.items():
        if name not in fields:
            found.append((name, unknown_field(name, fields)))
        elif name == "insights":
            if value is not None and _coerce_enum(Insights, value) is None:
                found.append((name, f"{_one_of(value, Insights)}, or None"))
        else:
            expected = _SECTION_TYPES[str(fields[name].type)]
            if not isinstance(value, expected) or (
                bool not in expected and isinstance(value, bool)
            ):
                found.append((name, f"expected {fields[name].type}, got {_describe(value)}"))
    if found:
        return default, found
    coerced = dict(changes)
    if coerced.get("insights") is not None:
        coerced["insights"] = Insights(coerced["insights"])
    return dataclasses.replace(default, **coerced), []


# --- rules -----------------------------------------------------------------------------------


def _rule_violations(env: Environment) -> list[tuple[str, str]]:
    """Every broken rule of one environment as (field, message)."""
    found: list[tuple[str, str]] = []
    if not _NAME.match(env.name):
        found.append(
            (
                "name",
                f"{env.name!r} must be 2-{MAX_NAME_LENGTH} lowercase letters, digits or '-', "
                "starting with a letter",
            )
        )
    if not _ACCOUNT.match(env.account_id):
        found.append(("account_id", f"{env.account_id!r} must be the 12-digit AWS account ID"))
    if env.region not in SUPPORTED_REGIONS:
        found.append(("region", unsupported_region(env.region)))
    if env.az_count not in (2, 3):
        found.append(("az_count", f"{env.az_count} AZs is not supported; use 2 or 3"))
    elif len(env.availability_zones) != env.az_count:
        found.append(
            (
                "availability_zones",
                f"{len(env.availability_zones)} names given for az_count {env.az_count}; give exactly {env.az_count}",
            )
        )
    if len(set(env.availability_zones)) != len(env.availability_zones) or any(
        not (
            isinstance(z, str)
            and z.startswith(env.region)
            and re.fullmatch(r"[a-z]", z[len(env.region) :])
        )
        for z in env.availability_zones
    ):
        found.append(
            (
                "availability_zones",
                f"{list(env.availability_zones)} must be distinct AZs of {env.region}, like {env.region}a",
            )
        )
    found += _network_violations(env)
    if env.kind is Kind.PRODUCTION and env.nat_mode is not NatMode.PER_AZ:
        found.append(
            (
                "nat_mode",
                f"'{env.nat_mode}' in production leaves the app without egress when one AZ fails; use 'per-az'",
            )
        )
    if env.nat_mode is NatMode.NONE and not env.interface_endpoints >= (
        NAT_ENDPOINTS | ROTATION_ENDPOINTS
    ):
        found.append(
            (
                "interface_endpoints",
                "nat_mode 'none' needs the ecr, logs, secretsmanager and rds endpoints, or tasks cannot pull images, log or read secrets and secret rotation cannot reach the RDS API; add them or use nat_mode 'single'",
            )
        )
    if env.nat_mode is NatMode.PUBLIC_IPS:
        if env.kind is not Kind.DEVELOPMENT:
            found.append(
                (
                    "nat_mode",
                    "'public-ips' gives every task an address on the internet (only its security group in between): development only; use 'single' or 'per-az'",
                )
            )
        if not env.interface_endpoints >= ROTATION_ENDPOINTS:
            found.append(
                (
                    "interface_endpoints",
                    "nat_mode 'public-ips' needs the secretsmanager and rds endpoints: the secret rotation functions have no public address and ask the RDS API for the database's host; add them or use nat_mode 'single'",
                )
            )
    if env.endpoints_in_one_az and env.kind is Kind.PRODUCTION:
        found.append(
            (
                "endpoints_in_one_az",
                "production keeps an interface endpoint in every AZ (one AZ's outage must not cut the others off AWS); set it False",
            )
        )
    if not env.ingress.regional_waf:
        if env.alb_ingress is AlbIngress.INTERNET:
            found.append(
                (
                    "ingress.regional_waf",
                    "the ALB is open to the internet (alb_ingress 'internet'): it keeps its own WAF; set regional_waf True or alb_ingress 'cloudfront'",
                )
            )
        elif env.kind is Kind.PRODUCTION:
            found.append(
                (
                    "ingress.regional_waf",
                    "production keeps the ALB's own WAF behind CloudFront's (any CloudFront distribution can reach the ALB's prefix list); set it True",
                )
            )
    if problem := retention_problem(env.flow_log_retention_days):
        found.append(("flow_log_retention_days", problem))
    if not 1024 <= env.app_port <= 65535:
        found.append(
            (
                "app_port",
                f"{env.app_port} must be 1024-65535 (the container runs as a non-root user)",
            )
        )
    if not 1 <= env.max_app_tasks <= 500:
        found.append(("max_app_tasks", f"{env.max_app_tasks} must be 1-500"))
    if not MIN_CANARY_MINUTES <= env.canary_interval_minutes <= MAX_CANARY_MINUTES:
        found.append(
            (
                "canary_interval_minutes",
                f"{env.canary_interval_minutes} must be {MIN_CANARY_MINUTES}-{MAX_CANARY_MINUTES} minutes between canary runs",
            )
        )
    elif (
        env.kind is Kind.PRODUCTION and env.canary_interval_minutes > MAX_PRODUCTION_CANARY_MINUTES
    ):
        found.append(
            (
                "canary_interval_minutes",
                f"{env.canary_interval_minutes} minutes in production: an outage would page only after two runs, over {2 * env.canary_interval_minutes} minutes; use {MAX_PRODUCTION_CANARY_MINUTES} or fewer",
            )
        )
    if not 10 <= env.monthly_budget_usd <= 1_000_000:
        found.append(
            ("monthly_budget_usd", f"{env.monthly_budget_usd} must be 10-1000000 US dollars")
        )
    for tag in ("cost_center", "owner"):
        value = getattr(env.tags, tag)
        if not isinstance(value, str) or not _TAG_VALUE.match(value) or value.strip() != value:
            found.append(
                (
                    f"tags.{tag}",
                    f"{value!r} must be 1-256 characters of letters, digits, spaces and _ . : / = + - @, without surrounding spaces",
                )
            )
    if not _EMAIL.match(env.alarm_email):
        found.append(
            ("alarm_email", f"{env.alarm_email!r} is not an e-mail address; alarms are sent there")
        )
    for host in ("site_domain", "api_domain"):
        if not _HOSTNAME.match(getattr(env, host)):
            found.append(
                (
                    host,
                    f"{getattr(env, host)!r} is not a lowercase DNS host name like app.example.com",
                )
            )
    found += database_rules.violations(
        env.database, env.kind is Kind.PRODUCTION, LOG_RETENTION_DAYS, env.region, SUPPORTED_REGIONS
    )
    if env.database.instance_class in database_rules.CLASS_MEMORY_GIB:
        needed = env.max_app_tasks * KNEX_POOL_MAX + OTHER_CONNECTIONS
        if env.database.max_connections < needed:
            found.append(
                (
                    "database.instance_class",
                    f"{env.database.instance_class} allows about {env.database.max_connections} connections, but max_app_tasks {env.max_app_tasks} x {KNEX_POOL_MAX} (each task's pool) + {OTHER_CONNECTIONS} need {needed}; use a larger class or lower max_app_tasks",
                )
            )
    found += ingress_rules.violations(env.ingress, env.region, LOG_RETENTION_DAYS)
    if not env.ingress.health_check_path.startswith(env.app.api_base_path + "/"):
        found.append(
            (
                "ingress.health_check_path",
                f"{env.ingress.health_check_path} is outside the API's base path {env.app.api_base_path}; the ALB must check the backend's own health route, e.g. {env.app.api_base_path}/health",
            )
        )
    found += app_rules.violations(
        env.app, env.max_app_tasks, env.kind is Kind.PRODUCTION, LOG_RETENTION_DAYS
    )
    found += web_rules.violations(env.web, LOG_RETENTION_DAYS)
    found += jobs_rules.violations(env.jobs, LOG_RETENTION_DAYS)
    found += web_rules.feature_violations(env.features, env.kind is Kind.PRODUCTION)
    if env.site_domain == env.api_domain:
        found.append(
            (
                "api_domain",
                "must differ from site_domain: CloudFront serves the site, the ALB origin needs its own name",
            )
        )
    return found


def _network_violations(env: Environment) -> list[tuple[str, str]]:
    try:
        vpc = ip_network(env.vpc_cidr)
    except ValueError as error:
        return [
            (
                "vpc_cidr",
                f"{env.vpc_cidr!r} is not a valid IPv4 network ({error}); use e.g. 10.20.0.0/16",
            )
        ]
    if vpc.version != 4:
        return [
            ("vpc_cidr", f"{env.vpc_cidr} is IPv6; give the VPC's IPv4 range, e.g. 10.20.0.0/16")
        ]
    if not any(
        vpc.subnet_of(ip_network(r)) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
    ):
        return [
            (
                "vpc_cidr",
                f"{env.vpc_cidr} is not a private (RFC 1918) range; use one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
            )
        ]
    if vpc.prefixlen < 16:
        return [
            ("vpc_cidr", f"/{vpc.prefixlen} is larger than AWS allows for a VPC; use /16 to /23")
        ]
    if vpc.prefixlen > 26:
        return [
            (
                "vpc_cidr",
                f"/{vpc.prefixlen} is too small to hold three tiers of subnets; use /16 to /23",
            )
        ]
    layout = plan_subnets(vpc, env.az_count if env.az_count in (2, 3) else 3)
    found = []
    if layout.public.subnets[0].prefixlen > MIN_PUBLIC_SUBNET_PREFIX:
        found.append(
            (
                "vpc_cidr",
                f"/{vpc.prefixlen} leaves public subnets of /{layout.public.subnets[0].prefixlen}; the ALB needs /{MIN_PUBLIC_SUBNET_PREFIX} or larger: use /23 or larger",
            )
        )
    if layout.data.subnets[0].prefixlen > MIN_DATA_SUBNET_PREFIX:
        found.append(
            (
                "vpc_cidr",
                f"/{vpc.prefixlen} leaves data subnets of /{layout.data.subnets[0].prefixlen}; RDS needs /{MIN_DATA_SUBNET_PREFIX} or larger",
            )
        )
    subnets = layout.all_subnets()
    for i, a in enumerate(subnets):
        if not a.subnet_of(vpc) or any(a.overlaps(b) for b in subnets[i + 1 :]):
            found.append(
                (
                    "vpc_cidr",
                    f"subnet {a} overlaps another subnet or leaves the VPC; the layout is broken",
                )
            )
    endpoints = sum(ENDPOINT_INTERFACES[e.value] for e in env.interface_endpoints) + (
        CACHE_INTERFACES if env.app.cache else 0
    )
    needed = 2 * env.max_app_tasks + JOB_TASK_RESERVE + endpoints
    if layout.app.usable_per_subnet < needed:
        found.append(
            (
                "vpc_cidr",
                f"app subnets of /{layout.app.subnets[0].prefixlen} hold {layout.app.usable_per_subnet} addresses, but {needed} are needed (2 x max_app_tasks {env.max_app_tasks} for blue/green, {JOB_TASK_RESERVE} for jobs, {endpoints} for endpoints); use a larger VPC or lower max_app_tasks",
            )
        )
    return found
