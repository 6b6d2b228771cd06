"""The scaling rule: a service's target-tracking policies have data whichever target group is
live."""

from __future__ import annotations

from playback_infra.checks.contracts import scaling
from tests.checks.contracts.helpers import committed, violating


def _tracking(t: dict) -> dict:
    return t["Resources"]["RequestsScalingPolicy"]["Properties"][
        "TargetTrackingScalingPolicyConfiguration"
    ]


def _per_colour(colour: str):
    """The policy as it was: ALB requests per target of one target group."""

    def change(t):
        tracking = _tracking(t)
        del tracking["CustomizedMetricSpecification"]
        tracking["PredefinedMetricSpecification"] = {
            "PredefinedMetricType": "ALBRequestCountPerTarget",
            "ResourceLabel": {
                "Fn::Join": [
                    "/",
                    [
                        {"Ref": "ApiLoadBalancerFullName"},
                        {"Ref": f"ApiTargetGroup{colour}FullName"},
                    ],
                ]
            },
        }

    return change


def test_the_committed_templates_keep_the_contract():
    assert scaling.RULE.problems(committed()) == []


def test_every_policy_of_the_committed_service_is_found():
    policies = {
        (name, logical_id)
        for name, env in committed().deployed.items()
        for _, logical_id, _, _ in scaling._policies(env)
    }
    assert policies == {
        (env, policy)
        for env in ("dev", "staging", "prod")
        for policy in ("CpuScalingPolicy", "RequestsScalingPolicy")
    }


def test_a_policy_on_the_blue_target_group_only_fails_where_blue_green_deploys():
    problems = scaling.RULE.problems(violating("app", _per_colour("Blue")))
    assert len(problems) == 1
    assert problems[0].startswith(
        "scaling: prod: app RequestsScalingPolicy reads ingress ApiTargetGroupBlue only"
    )
    assert "while ingress ApiTargetGroupGreen serves production it has no data" in problems[0]
    assert problems[0].endswith(f"(AWS: {scaling.DOC})")


def test_a_policy_on_the_green_target_group_only_fails_everywhere():
    """A rolling service serves from blue alone: a green policy never has data."""
    problems = scaling.RULE.problems(violating("app", _per_colour("Green")))
    assert [p.split(":")[1].strip() for p in problems] == ["dev", "prod", "staging"]


def test_a_sum_of_the_target_groups_without_fill_fails():
    def unfilled(t):
        metrics = _tracking(t)["CustomizedMetricSpecification"]["Metrics"]
        metrics[-1]["Expression"] = "(blue + FILL(green, 0)) / tasks"

    problems = scaling.RULE.problems(violating("app", unfilled))
    assert len(problems) == 3
    assert all("uses blue outside FILL()" in p for p in problems)
