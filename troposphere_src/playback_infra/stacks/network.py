"""The network stack: VPC over 2-3 AZs with public, private-app and private-data subnets.

Egress: the public tier routes to the Internet Gateway; the app tier to a NAT gateway (none,
one shared, or one per AZ, by `NatMode`), or, with `public-ips` (development), straight to the
Internet Gateway, its tasks with public addresses of their own and their security groups
admitting nothing from outside; the data tier has no route out of the VPC at all.
Network ACLs let each tier receive only what it serves. The S3 gateway endpoint is always
there (free, and it keeps ECR layer pulls off the NAT); interface endpoints are switched on per
environment.
"""

from __future__ import annotations

from troposphere import And, Condition, Equals, GetAtt, If, Or, Ref, Sub, Template
from troposphere.ec2 import (
    EIP,
    VPC,
    InternetGateway,
    NatGateway,
    NetworkAcl,
    NetworkAclEntry,
    PortRange,
    Route,
    RouteTable,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
    SubnetNetworkAclAssociation,
    SubnetRouteTableAssociation,
    VPCEndpoint,
    VPCGatewayAttachment,
)

from playback_infra.parts import values
from playback_infra.parts.ec2 import NO_EGRESS
from playback_infra.parts.template import (
    AZ_INDEXES,
    HAS_THIRD_AZ,
    add_third_az_condition,
    joined_per_az,
    name_tag,
    new_template,
    on_az,
    per_az_list,
    select_az,
    tag_component,
)

COMPONENT = "network"
ANYWHERE = "0.0.0.0/0"
TCP = 6
EPHEMERAL = (1024, 65535)

HAS_NAT = "HasNat"
NAT_PER_AZ = "NatPerAz"
APP_VIA_IGW = "AppViaInternetGateway"
ENDPOINTS_ONE_AZ = "EndpointsInOneAz"
TIERS = {  # logical-ID prefix -> (CIDR list parameter, subnet-IDs output, Name tag)
    "Public": (values.PUBLIC_SUBNET_CIDRS, values.PUBLIC_SUBNET_IDS, "public"),
    "PrivateApp": (values.PRIVATE_APP_SUBNET_CIDRS, values.PRIVATE_APP_SUBNET_IDS, "private-app"),
    "PrivateData": (
        values.PRIVATE_DATA_SUBNET_CIDRS,
        values.PRIVATE_DATA_SUBNET_IDS,
        "private-data",
    ),
}
INTERFACE_ENDPOINTS = {  # logical ID -> (switch parameter, service)
    "EcrApiEndpoint": (values.ENABLE_ECR_ENDPOINTS, "ecr.api"),
    "EcrDockerEndpoint": (values.ENABLE_ECR_ENDPOINTS, "ecr.dkr"),
    "LogsEndpoint": (values.ENABLE_LOGS_ENDPOINT, "logs"),
    "SecretsManagerEndpoint": (values.ENABLE_SECRETS_MANAGER_ENDPOINT, "secretsmanager"),
}
# (tier, direction, rule number, port or range, peer): everything else is denied.
ACL_RULES = (
    ("Public", "Inbound", 100, 443, ANYWHERE),  # HTTPS to the ALB; app traffic into the NAT
    ("Public", "Inbound", 110, 80, ANYWHERE),  # HTTP, which the ALB redirects to HTTPS
    ("Public", "Inbound", 120, EPHEMERAL, ANYWHERE),  # replies to the ALB and the NAT
    ("Public", "Outbound", 100, 443, ANYWHERE),  # the NAT forwarding HTTPS out
    ("Public", "Outbound", 110, values.APP_PORT, values.APP_TIER_CIDR),  # ALB to the tasks
    ("Public", "Outbound", 120, EPHEMERAL, ANYWHERE),  # replies to viewers and to the app tier
    ("PrivateApp", "Inbound", 100, values.APP_PORT, values.PUBLIC_TIER_CIDR),  # from the ALB
    ("PrivateApp", "Inbound", 110, 443, values.APP_TIER_CIDR),  # interface endpoints
    ("PrivateApp", "Inbound", 120, 3306, values.APP_TIER_CIDR),  # RDS Proxy lives in this tier
    ("PrivateApp", "Inbound", 130, EPHEMERAL, ANYWHERE),  # replies from the internet, RDS, AWS
    ("PrivateApp", "Outbound", 100, 443, ANYWHERE),  # OpenAI and AWS APIs
    ("PrivateApp", "Outbound", 110, 3306, values.APP_TIER_CIDR),  # to the RDS Proxy
    ("PrivateApp", "Outbound", 120, 3306, values.DATA_TIER_CIDR),  # to the database
    ("PrivateApp", "Outbound", 130, EPHEMERAL, values.VPC_CIDR),  # replies to ALB and peers
    ("PrivateData", "Inbound", 100, 3306, values.APP_TIER_CIDR),  # MySQL from the app tier only
    ("PrivateData", "Outbound", 100, EPHEMERAL, values.APP_TIER_CIDR),  # its replies
)


def build() -> Template:
    t = new_template("network (VPC, subnets, routes, NAT, network ACLs, VPC endpoints)")
    values.consume(
        t,
        values.ENVIRONMENT_NAME,
        values.AVAILABILITY_ZONES,
        values.VPC_CIDR,
        values.PUBLIC_TIER_CIDR,
        values.APP_TIER_CIDR,
        values.DATA_TIER_CIDR,
        *(cidrs for cidrs, _, _ in TIERS.values()),
        values.NAT_MODE,
        values.ENDPOINTS_IN_ONE_AZ,
        values.ENABLE_ECR_ENDPOINTS,
        values.ENABLE_LOGS_ENDPOINT,
        values.ENABLE_SECRETS_MANAGER_ENDPOINT,
        values.APP_PORT,
    )
    add_third_az_condition(t)
    _add_conditions(t)

    vpc = t.add_resource(
        VPC(
            "Vpc",
            CidrBlock=Ref(values.VPC_CIDR),
            EnableDnsSupport=True,
            EnableDnsHostnames=True,  # needed by interface endpoints' private DNS
            Tags=name_tag("vpc"),
        )
    )
    igw = t.add_resource(InternetGateway("InternetGateway", Tags=name_tag("igw")))
    attachment = t.add_resource(
        VPCGatewayAttachment(
            "InternetGatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(igw)
        )
    )
    subnets, route_tables = _add_subnets(t, vpc)
    _add_public_routes(t, route_tables["Public"], igw, attachment)
    _add_nat(t, subnets["Public"], route_tables["PrivateApp"], attachment)
    _add_app_internet_routes(t, route_tables["PrivateApp"], igw, attachment)
    _add_network_acls(t, vpc, subnets)
    _add_endpoints(t, vpc, subnets["PrivateApp"], route_tables["PrivateApp"])

    values.produce(t, values.VPC_ID, Ref(vpc))
    # The security stack leaves it with no rules.
    values.produce(t, values.DEFAULT_SECURITY_GROUP_ID, GetAtt(vpc, "DefaultSecurityGroup"))
    values.produce(t, values.VPC_CIDR, Ref(values.VPC_CIDR))
    for tier, (_, output, _) in TIERS.items():
        values.produce(t, output, joined_per_az([Ref(s) for s in subnets[tier]]))
    tag_component(t, COMPONENT)
    return t


def _add_conditions(t: Template) -> None:
    t.add_condition(
        HAS_NAT,
        Or(Equals(Ref(values.NAT_MODE), "single"), Equals(Ref(values.NAT_MODE), "per-az")),
    )
    t.add_condition(APP_VIA_IGW, Equals(Ref(values.NAT_MODE), "public-ips"))
    t.add_condition(f"{APP_VIA_IGW}InThirdAz", And(Condition(APP_VIA_IGW), Condition(HAS_THIRD_AZ)))
    t.add_condition(ENDPOINTS_ONE_AZ, Equals(Ref(values.ENDPOINTS_IN_ONE_AZ), "true"))
    t.add_condition(NAT_PER_AZ, Equals(Ref(values.NAT_MODE), "per-az"))
    t.add_condition("HasNatInThirdAz", And(Condition(HAS_NAT), Condition(HAS_THIRD_AZ)))
    t.add_condition("NatPerAzInThirdAz", And(Condition(NAT_PER_AZ), Condition(HAS_THIRD_AZ)))
    switches = sorted({switch for switch, _ in INTERFACE_ENDPOINTS.values()})
    for switch in switches:
        t.add_condition(switch, Equals(Ref(switch), "true"))
    t.add_condition("HasInterfaceEndpoints", Or(*(Condition(s) for s in switches)))


def _add_subnets(t: Template, vpc: VPC) -> tuple[dict[str, list], dict[str, list]]:
    """A subnet and a route table per tier and AZ."""
    subnets: dict[str, list] = {}
    route_tables: dict[str, list] = {}
    for tier, (cidrs, _, label) in TIERS.items():
        subnets[tier], route_tables[tier] = [], []
        for i in AZ_INDEXES:
            subnet = t.add_resource(
                Subnet(
                    f"{tier}Subnet{i}",
                    **on_az(i),
                    VpcId=Ref(vpc),
                    AvailabilityZone=select_az(i, values.AVAILABILITY_ZONES),
                    CidrBlock=select_az(i, cidrs),
                    MapPublicIpOnLaunch=False,  # nothing here needs a public IP but NAT and ALB
                    Tags=name_tag(f"{label}-{i}"),
                )
            )
            table = t.add_resource(
                RouteTable(
                    f"{tier}RouteTable{i}",
                    **on_az(i),
                    VpcId=Ref(vpc),
                    Tags=name_tag(f"{label}-{i}"),
                )
            )
            t.add_resource(
                SubnetRouteTableAssociation(
                    f"{tier}Subnet{i}RouteTableAssociation",
                    **on_az(i),
                    SubnetId=Ref(subnet),
                    RouteTableId=Ref(table),
                )
            )
            subnets[tier].append(subnet)
            route_tables[tier].append(table)
    return subnets, route_tables


def _add_public_routes(t: Template, tables: list, igw, attachment) -> None:
    for i, table in zip(AZ_INDEXES, tables, strict=True):
        t.add_resource(
            Route(
                f"PublicDefaultRoute{i}",
                **on_az(i),
                DependsOn=attachment,
                RouteTableId=Ref(table),
                DestinationCidrBlock=ANYWHERE,
                GatewayId=Ref(igw),
            )
        )


def _add_nat(t: Template, public_subnets: list, app_tables: list, attachment) -> None:
    """NAT gateway 1 serves every AZ in `single` mode; `per-az` adds one in each other AZ."""
    gateways = []
    for i, subnet in zip(AZ_INDEXES, public_subnets, strict=True):
        condition = {1: HAS_NAT, 2: NAT_PER_AZ, 3: "NatPerAzInThirdAz"}[i]
        eip = t.add_resource(
            EIP(
                f"NatGateway{i}Eip",
                Condition=condition,
                DependsOn=attachment,
                Domain="vpc",
                Tags=name_tag(f"nat-{i}"),
            )
        )
        gateways.append(
            t.add_resource(
                NatGateway(
                    f"NatGateway{i}",
                    Condition=condition,
                    AllocationId=GetAtt(eip, "AllocationId"),
                    SubnetId=Ref(subnet),
                    Tags=name_tag(f"nat-{i}"),
                )
            )
        )
    for i, table in zip(AZ_INDEXES, app_tables, strict=True):
        own = Ref(gateways[i - 1])
        t.add_resource(
            Route(
                f"PrivateAppDefaultRoute{i}",
                Condition={1: HAS_NAT, 2: HAS_NAT, 3: "HasNatInThirdAz"}[i],
                RouteTableId=Ref(table),
                DestinationCidrBlock=ANYWHERE,
                NatGatewayId=own if i == 1 else If(NAT_PER_AZ, own, Ref(gateways[0])),
            )
        )


def _add_app_internet_routes(t: Template, app_tables: list, igw, attachment) -> None:
    """`public-ips`: the app tier's default route is the Internet Gateway."""
    for i, table in zip(AZ_INDEXES, app_tables, strict=True):
        t.add_resource(
            Route(
                f"PrivateAppInternetRoute{i}",
                Condition=f"{APP_VIA_IGW}InThirdAz" if i == 3 else APP_VIA_IGW,
                DependsOn=attachment,
                RouteTableId=Ref(table),
                DestinationCidrBlock=ANYWHERE,
                GatewayId=Ref(igw),
            )
        )


def _add_network_acls(t: Template, vpc: VPC, subnets: dict[str, list]) -> None:
    for tier, (_, _, label) in TIERS.items():
        acl = t.add_resource(
            NetworkAcl(f"{tier}NetworkAcl", VpcId=Ref(vpc), Tags=name_tag(f"{label}-acl"))
        )
        for i, subnet in zip(AZ_INDEXES, subnets[tier], strict=True):
            t.add_resource(
                SubnetNetworkAclAssociation(
                    f"{tier}Subnet{i}NetworkAclAssociation",
                    **on_az(i),
                    SubnetId=Ref(subnet),
                    NetworkAclId=Ref(acl),
                )
            )
        for rule_tier, direction, number, ports, peer in ACL_RULES:
            if rule_tier != tier:
                continue
            low, high = ports if isinstance(ports, tuple) else (ports, ports)
            t.add_resource(
                NetworkAclEntry(
                    f"{tier}{direction}Rule{number}",
                    NetworkAclId=Ref(acl),
                    RuleNumber=number,
                    Protocol=TCP,
                    RuleAction="allow",
                    Egress=direction == "Outbound",
                    CidrBlock=peer if peer == ANYWHERE else Ref(peer),
                    PortRange=PortRange(
                        From=low if isinstance(low, int) else Ref(low),
                        To=high if isinstance(high, int) else Ref(high),
                    ),
                )
            )


def _add_endpoints(t: Template, vpc: VPC, app_subnets: list, app_tables: list) -> None:
    t.add_resource(
        VPCEndpoint(
            "S3GatewayEndpoint",
            VpcId=Ref(vpc),
            VpcEndpointType="Gateway",
            ServiceName=Sub("com.amazonaws.${AWS::Region}.s3"),
            # The app tier only: the data tier keeps no route out of the VPC, not even to S3.
            RouteTableIds=per_az_list([Ref(r) for r in app_tables]),
        )
    )
    group = t.add_resource(
        SecurityGroup(
            "EndpointSecurityGroup",
            Condition="HasInterfaceEndpoints",
            GroupDescription="Interface endpoints: HTTPS from inside the VPC",
            VpcId=Ref(vpc),
            SecurityGroupIngress=[
                SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=443,
                    ToPort=443,
                    CidrIp=Ref(values.VPC_CIDR),
                    Description="HTTPS from the VPC",
                )
            ],
            SecurityGroupEgress=[NO_EGRESS],
            Tags=name_tag("endpoints"),
        )
    )
    for title, (switch, service) in INTERFACE_ENDPOINTS.items():
        t.add_resource(
            VPCEndpoint(
                title,
                Condition=switch,
                VpcId=Ref(vpc),
                VpcEndpointType="Interface",
                ServiceName=Sub(f"com.amazonaws.${{AWS::Region}}.{service}"),
                PrivateDnsEnabled=True,
                SubnetIds=If(
                    ENDPOINTS_ONE_AZ,
                    [Ref(app_subnets[0])],
                    per_az_list([Ref(s) for s in app_subnets]),
                ),
                SecurityGroupIds=[Ref(group)],
            )
        )
