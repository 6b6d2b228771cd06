"""Regions this deployment supports, with the facts the templates need per region.

A region is supported when we know the ID of its AWS-managed prefix list
`com.amazonaws.global.cloudfront.origin-facing` (the ALB admits only CloudFront through it).
The IDs are the same for every account in a region; check one with
`aws ec2 describe-managed-prefix-lists --filters Name=prefix-list-name,Values=com.amazonaws.global.cloudfront.origin-facing`
before adding a region here.
"""

CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS: dict[str, str] = {
    "ap-northeast-1": "pl-58a04531",
    "ap-northeast-2": "pl-22a6434b",
    "ap-south-1": "pl-9aa247f3",
    "ap-southeast-1": "pl-31a34658",
    "ap-southeast-2": "pl-b8a742d1",
    "ca-central-1": "pl-38a64351",
    "eu-central-1": "pl-a3a144ca",
    "eu-north-1": "pl-fab65393",
    "eu-west-1": "pl-4fa04526",
    "eu-west-2": "pl-93a247fa",
    "eu-west-3": "pl-75b1541c",
    "sa-east-1": "pl-5da64334",
    "us-east-1": "pl-3b927c52",
    "us-east-2": "pl-b6a144df",
    "us-west-1": "pl-4ea04527",
    "us-west-2": "pl-82a045eb",
}

SUPPORTED_REGIONS = tuple(sorted(CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS))

# The Elastic Load Balancing account that writes ALB access logs, per region (regions opened
# before August 2022; later ones use the logdelivery.elasticloadbalancing.amazonaws.com service
# principal). Every supported region has one.
ELB_LOG_DELIVERY_ACCOUNTS: dict[str, str] = {
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-south-1": "718504428378",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-north-1": "897822967062",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "sa-east-1": "507241528517",
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
}


def unsupported(region: str) -> str:
    """Why an environment cannot use `region`, and the fix."""
    import botocore.session  # here only: synth does not load the SDK

    from playback_infra.suggest import did_you_mean

    session = botocore.session.get_session()
    real = {
        name
        for partition in session.get_available_partitions()
        for name in session.get_available_regions("ec2", partition_name=partition)
    }
    supported = ", ".join(SUPPORTED_REGIONS)
    if region in real:
        return (
            f"{region!r} is an AWS region this deployment does not support yet: "
            "environments/regions.py has no ID of its CloudFront origin-facing prefix list (the "
            "ALB admits only CloudFront through it) nor its Elastic Load Balancing account (it "
            "writes the ALB's access logs); add both there (its docstring says how to look the "
            f"prefix list up), or use one of: {supported}"
        )
    hint = did_you_mean(region, sorted(real), end="? ")
    return f"{region!r} is not an AWS region; {hint}use one of: {supported}"
