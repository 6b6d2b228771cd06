"""The environments Baseball Playback deploys to. Add one here, then run `make synth`.

Account IDs and hosted zone IDs: set each environment's real ones before its first deploy;
`deploy` refuses to deploy into any other account than the one named here.
"""

from playback_infra.environments.delivery import Delivery, define_delivery
from playback_infra.environments.model import Environment, Kind, Tags, define

_TEAM = Tags(cost_center="baseball-playback", owner="platform-team")


def environments() -> tuple[Environment, ...]:
    """dev, staging and prod, validated (raises ConfigError)."""
    return (
        define(
            "dev",
            Kind.DEVELOPMENT,
            account_id="111111111111",
            region="us-east-1",
            vpc_cidr="10.20.0.0/16",
            tags=_TEAM,
            alarm_email="playback-alerts-dev@example.com",
            site_domain="dev.playback.example.com",
            api_domain="api.dev.playback.example.com",
            # CloudFront alone reaches the ALB, and its WAF inspects every request.
            ingress={
                "hosted_zone_id": "Z0DEVPLAYBACKEXAMPLE",
                "access_log_days": 30,
                "regional_waf": False,
            },
            web={"hosted_zone_id": "Z0DEVPLAYBACKEXAMPLE"},
        ),
        define(
            "staging",
            Kind.STAGING,
            account_id="222222222222",
            region="us-east-1",
            vpc_cidr="10.21.0.0/16",
            tags=_TEAM,
            alarm_email="playback-alerts-staging@example.com",
            site_domain="staging.playback.example.com",
            api_domain="api.staging.playback.example.com",
            ingress={"hosted_zone_id": "Z0STAGINGPLAYBACKEXAMPLE"},
            web={"hosted_zone_id": "Z0STAGINGPLAYBACKEXAMPLE"},
        ),
        define(
            "prod",
            Kind.PRODUCTION,
            account_id="333333333333",
            region="us-east-1",
            vpc_cidr="10.22.0.0/16",
            tags=_TEAM,
            alarm_email="playback-alerts@example.com",
            site_domain="playback.example.com",
            api_domain="api.playback.example.com",
            ingress={
                "hosted_zone_id": "Z0PRODPLAYBACKEXAMPLE",
                "waf_log_retention_days": 365,
                "access_log_days": 365,
            },
            web={"hosted_zone_id": "Z0PRODPLAYBACKEXAMPLE"},
        ),
    )


def delivery() -> Delivery:
    """The pipelines: in dev's account (the default single account), deploying dev there and
    staging and prod into their own accounts."""
    return define_delivery(
        environments(),
        account_id="111111111111",
        region="us-east-1",
        infra_repository="example-org/baseball-playback-infra",
        backend_repository="example-org/baseball-playback-backend",
        frontend_repository="example-org/baseball-playback-frontend",
        notification_email="playback-delivery@example.com",
    )
