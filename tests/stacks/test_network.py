"""The network stack (stacks/network.py): the rendered template, property by property, and what
CloudFormation makes of it with each environment's parameter file."""

from __future__ import annotations

import ipaddress
import itertools
import re

import pytest

from playback_infra.stacks import network
from tests.stacks.helpers import props, ref, resources_of_type

ANYWHERE = "0.0.0.0/0"
AZS = (1, 2, 3)
TIERS = {  # logical-ID prefix -> CIDR list parameter, tier CIDR parameter, subnet-IDs output
    "Public": ("PublicSubnetCidrs", "PublicTierCidr", "PublicSubnetIds"),
    "PrivateApp": ("PrivateAppSubnetCidrs", "AppTierCidr", "PrivateAppSubnetIds"),
    "PrivateData": ("PrivateDataSubnetCidrs", "DataTierCidr", "PrivateDataSubnetIds"),
}
TIER_AZS = list(itertools.product(TIERS, AZS))
INTERFACE_ENDPOINTS = {  # logical ID -> (condition, service)
    "EcrApiEndpoint": ("EnableEcrEndpoints", "ecr.api"),
    "EcrDockerEndpoint": ("EnableEcrEndpoints", "ecr.dkr"),
    "LogsEndpoint": ("EnableLogsEndpoint", "logs"),
    "SecretsManagerEndpoint": ("EnableSecretsManagerEndpoint", "secretsmanager"),
}
NO_EGRESS = {
    "IpProtocol": "icmp",
    "FromPort": 252,
    "ToPort": 86,
    "CidrIp": "255.255.255.255/32",
    "Description": "Disallow all traffic",
}


@pytest.fixture(scope="module")
def template():
    return network.build()


@pytest.fixture(scope="module")
def t(template) -> dict:
    return template.to_dict()


# --- helpers ---------------------------------------------------------------------------------


def az_condition(i: int) -> str | None:
    return "HasThirdAz" if i == 3 else None


def select(i: int, parameter: str) -> dict:
    return {"Fn::Select": [i - 1, ref(parameter)]}


def per_az(items: list) -> dict:
    return {"Fn::If": ["HasThirdAz", items, items[:2]]}


def items(parameters: dict[str, str], name: str) -> list[str]:
    return parameters[name].split(",")


def references(node) -> set[str]:
    """Every logical ID or parameter a (resolved) node points at."""
    if isinstance(node, list):
        return set().union(*map(references, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = set()
    for key, value in node.items():
        if key == "Ref":
            found.add(value)
        elif key == "Fn::GetAtt":
            found.add(value[0])
        elif key == "Fn::Sub":
            found |= set(re.findall(r"\$\{([\w:]+)", value))
        elif key == "DependsOn":
            found |= {value} if isinstance(value, str) else set(value)
        else:
            found |= references(value)
    return found


def selects(node) -> list[tuple[int, str]]:
    """Every (index, list parameter) an Fn::Select in a node picks from."""
    if isinstance(node, list):
        return [found for item in node for found in selects(item)]
    if not isinstance(node, dict):
        return []
    if list(node) == ["Fn::Select"]:
        index, source = node["Fn::Select"]
        return [(index, source["Ref"])]
    return [found for item in node.values() for found in selects(item)]


def with_params(parameters: dict[str, str], **changes: str) -> dict[str, str]:
    """Parameter values with AZ-dependent lists trimmed to AzCount."""
    result = {**parameters, **changes}
    count = int(result["AzCount"])
    for name in ("AvailabilityZones", *(cidrs for cidrs, _, _ in TIERS.values())):
        result[name] = ",".join(items(result, name)[:count])
    return result


# --- VPC, subnets, route tables --------------------------------------------------------------


def test_template_holds_only_the_expected_resource_types(t):
    assert {r["Type"] for r in t["Resources"].values()} == {
        "AWS::EC2::VPC",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::Subnet",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::Route",
        "AWS::EC2::EIP",
        "AWS::EC2::NatGateway",
        "AWS::EC2::NetworkAcl",
        "AWS::EC2::SubnetNetworkAclAssociation",
        "AWS::EC2::NetworkAclEntry",
        "AWS::EC2::VPCEndpoint",
        "AWS::EC2::SecurityGroup",
    }


def test_vpc_uses_the_cidr_parameter_and_dns(t):
    assert list(resources_of_type(t, "AWS::EC2::VPC")) == ["Vpc"]
    vpc = props(t, "Vpc")
    assert vpc["CidrBlock"] == ref("VpcCidr")
    assert vpc["EnableDnsSupport"] is True
    assert vpc["EnableDnsHostnames"] is True
    attachment = props(t, "InternetGatewayAttachment")
    assert attachment == {"VpcId": ref("Vpc"), "InternetGatewayId": ref("InternetGateway")}


@pytest.mark.parametrize(("tier", "i"), TIER_AZS)
def test_subnet_route_table_and_association_per_tier_and_az(t, tier, i):
    cidrs = TIERS[tier][0]
    subnet = t["Resources"][f"{tier}Subnet{i}"]
    assert subnet["Type"] == "AWS::EC2::Subnet"
    assert subnet.get("Condition") == az_condition(i)
    assert subnet["Properties"]["VpcId"] == ref("Vpc")
    assert subnet["Properties"]["AvailabilityZone"] == select(i, "AvailabilityZones")
    assert subnet["Properties"]["CidrBlock"] == select(i, cidrs)
    assert subnet["Properties"]["MapPublicIpOnLaunch"] is False

    table = t["Resources"][f"{tier}RouteTable{i}"]
    assert table["Type"] == "AWS::EC2::RouteTable"
    assert table.get("Condition") == az_condition(i)
    assert table["Properties"]["VpcId"] == ref("Vpc")

    association = t["Resources"][f"{tier}Subnet{i}RouteTableAssociation"]
    assert association.get("Condition") == az_condition(i)
    assert association["Properties"] == {
        "SubnetId": ref(f"{tier}Subnet{i}"),
        "RouteTableId": ref(f"{tier}RouteTable{i}"),
    }


def test_every_subnet_and_route_table_is_associated_exactly_once(t):
    associations = resources_of_type(t, "AWS::EC2::SubnetRouteTableAssociation").values()
    subnets = sorted(a["Properties"]["SubnetId"]["Ref"] for a in associations)
    tables = sorted(a["Properties"]["RouteTableId"]["Ref"] for a in associations)
    assert subnets == sorted(f"{tier}Subnet{i}" for tier, i in TIER_AZS)
    assert tables == sorted(f"{tier}RouteTable{i}" for tier, i in TIER_AZS)
    assert len(resources_of_type(t, "AWS::EC2::Subnet")) == 9
    assert len(resources_of_type(t, "AWS::EC2::RouteTable")) == 9


def test_only_the_third_az_resources_carry_has_third_az(t):
    conditional = {n for n, r in t["Resources"].items() if r.get("Condition") == "HasThirdAz"}
    assert conditional == {
        "PublicDefaultRoute3",
        *(f"{tier}Subnet3" for tier in TIERS),
        *(f"{tier}RouteTable3" for tier in TIERS),
        *(f"{tier}Subnet3RouteTableAssociation" for tier in TIERS),
        *(f"{tier}Subnet3NetworkAclAssociation" for tier in TIERS),
    }


# --- routes and NAT --------------------------------------------------------------------------


def test_only_public_route_tables_route_to_the_internet_gateway_but_with_public_ips(t):
    routes = resources_of_type(t, "AWS::EC2::Route")
    to_igw = {
        r["Properties"]["RouteTableId"]["Ref"]: r.get("Condition")
        for r in routes.values()
        if "GatewayId" in r["Properties"]
    }
    assert to_igw == {
        "PublicRouteTable1": None,
        "PublicRouteTable2": None,
        "PublicRouteTable3": "HasThirdAz",
        # NatMode public-ips (development): the app tier's tasks have public addresses
        "PrivateAppRouteTable1": "AppViaInternetGateway",
        "PrivateAppRouteTable2": "AppViaInternetGateway",
        "PrivateAppRouteTable3": "AppViaInternetGatewayInThirdAz",
    }
    for i in AZS:
        route = routes[f"PrivateAppInternetRoute{i}"]
        assert route["DependsOn"] == "InternetGatewayAttachment"
        assert route["Properties"] == {
            "RouteTableId": ref(f"PrivateAppRouteTable{i}"),
            "DestinationCidrBlock": ANYWHERE,
            "GatewayId": ref("InternetGateway"),
        }
    for i in AZS:
        route = routes[f"PublicDefaultRoute{i}"]
        assert route.get("Condition") == az_condition(i)
        assert route["DependsOn"] == "InternetGatewayAttachment"
        assert route["Properties"] == {
            "RouteTableId": ref(f"PublicRouteTable{i}"),
            "DestinationCidrBlock": ANYWHERE,
            "GatewayId": ref("InternetGateway"),
        }


def test_private_data_route_tables_have_no_route_at_all(t):
    routes = resources_of_type(t, "AWS::EC2::Route").values()
    targeted = {r["Properties"]["RouteTableId"]["Ref"] for r in routes}
    assert not {name for name in targeted if name.startswith("PrivateData")}
    assert len(routes) == 9  # three public, three private-app to a NAT, three to the gateway


@pytest.mark.parametrize(
    ("i", "condition", "gateway"),
    [
        (1, "HasNat", ref("NatGateway1")),
        (2, "HasNat", {"Fn::If": ["NatPerAz", ref("NatGateway2"), ref("NatGateway1")]}),
        (3, "HasNatInThirdAz", {"Fn::If": ["NatPerAz", ref("NatGateway3"), ref("NatGateway1")]}),
    ],
)
def test_private_app_default_route_goes_to_a_nat_gateway(t, i, condition, gateway):
    route = t["Resources"][f"PrivateAppDefaultRoute{i}"]
    assert route["Condition"] == condition
    assert route["Properties"] == {
        "RouteTableId": ref(f"PrivateAppRouteTable{i}"),
        "DestinationCidrBlock": ANYWHERE,
        "NatGatewayId": gateway,
    }


@pytest.mark.parametrize(
    ("i", "condition"), [(1, "HasNat"), (2, "NatPerAz"), (3, "NatPerAzInThirdAz")]
)
def test_nat_gateway_sits_in_the_public_subnet_of_its_az_with_its_own_eip(t, i, condition):
    gateway = t["Resources"][f"NatGateway{i}"]
    assert gateway["Condition"] == condition
    assert gateway["Properties"]["SubnetId"] == ref(f"PublicSubnet{i}")
    assert gateway["Properties"]["AllocationId"] == {
        "Fn::GetAtt": [f"NatGateway{i}Eip", "AllocationId"]
    }
    eip = t["Resources"][f"NatGateway{i}Eip"]
    assert eip["Condition"] == condition
    assert eip["Properties"]["Domain"] == "vpc"
    assert eip["DependsOn"] == "InternetGatewayAttachment"
    assert len(resources_of_type(t, "AWS::EC2::NatGateway")) == 3
    assert len(resources_of_type(t, "AWS::EC2::EIP")) == 3


def test_condition_definitions(t):
    assert t["Conditions"] == {
        "HasThirdAz": {"Fn::Equals": [ref("AzCount"), "3"]},
        "HasNat": {
            "Fn::Or": [
                {"Fn::Equals": [ref("NatMode"), "single"]},
                {"Fn::Equals": [ref("NatMode"), "per-az"]},
            ]
        },
        "AppViaInternetGateway": {"Fn::Equals": [ref("NatMode"), "public-ips"]},
        "AppViaInternetGatewayInThirdAz": {
            "Fn::And": [{"Condition": "AppViaInternetGateway"}, {"Condition": "HasThirdAz"}]
        },
        "EndpointsInOneAz": {"Fn::Equals": [ref("EndpointsInOneAz"), "true"]},
        "NatPerAz": {"Fn::Equals": [ref("NatMode"), "per-az"]},
        "HasNatInThirdAz": {"Fn::And": [{"Condition": "HasNat"}, {"Condition": "HasThirdAz"}]},
        "NatPerAzInThirdAz": {"Fn::And": [{"Condition": "NatPerAz"}, {"Condition": "HasThirdAz"}]},
        "EnableEcrEndpoints": {"Fn::Equals": [ref("EnableEcrEndpoints"), "true"]},
        "EnableLogsEndpoint": {"Fn::Equals": [ref("EnableLogsEndpoint"), "true"]},
        "EnableSecretsManagerEndpoint": {
            "Fn::Equals": [ref("EnableSecretsManagerEndpoint"), "true"]
        },
        "HasInterfaceEndpoints": {
            "Fn::Or": [
                {"Condition": "EnableEcrEndpoints"},
                {"Condition": "EnableLogsEndpoint"},
                {"Condition": "EnableSecretsManagerEndpoint"},
            ]
        },
    }


# --- per environment, from parameters/*.json -------------------------------------------------


def test_parameter_files_are_the_three_environments(parameter_files):
    assert set(parameter_files) == {"dev", "staging", "prod"}


@pytest.mark.parametrize(
    ("env", "nat_gateways", "subnets", "default_routes", "interface_endpoints"),
    [
        ("dev", 0, 6, {}, {"SecretsManagerEndpoint"}),
        ("staging", 1, 6, {1: "NatGateway1", 2: "NatGateway1"}, set(INTERFACE_ENDPOINTS)),
        (
            "prod",
            3,
            9,
            {1: "NatGateway1", 2: "NatGateway2", 3: "NatGateway3"},
            set(INTERFACE_ENDPOINTS),
        ),
    ],
)
def test_what_each_environment_gets(
    t,
    parameter_files,
    as_deployed,
    env,
    nat_gateways,
    subnets,
    default_routes,
    interface_endpoints,
):
    deployed = as_deployed(t, parameter_files[env]["Parameters"])
    live = deployed.resources
    assert len([r for r in live.values() if r["Type"] == "AWS::EC2::NatGateway"]) == nat_gateways
    assert len([r for r in live.values() if r["Type"] == "AWS::EC2::EIP"]) == nat_gateways
    assert len([r for r in live.values() if r["Type"] == "AWS::EC2::Subnet"]) == subnets
    assert {
        int(name[-1]): r["Properties"]["NatGatewayId"]["Ref"]
        for name, r in live.items()
        if name.startswith("PrivateAppDefaultRoute")
    } == default_routes
    interface = {
        name: r["Properties"]["SubnetIds"]
        for name, r in live.items()
        if r["Type"] == "AWS::EC2::VPCEndpoint"
        and r["Properties"]["VpcEndpointType"] == "Interface"
    }
    assert set(interface) == interface_endpoints
    az_count = int(parameter_files[env]["Parameters"]["AzCount"])
    # dev's endpoint sits in the first AZ only; elsewhere in every AZ
    endpoint_azs = 1 if env == "dev" else az_count
    for subnets_of_endpoint in interface.values():
        assert subnets_of_endpoint == [
            ref(f"PrivateAppSubnet{i}") for i in range(1, endpoint_azs + 1)
        ]
    to_igw = {name for name in live if name.startswith("PrivateAppInternetRoute")}
    assert to_igw == ({f"PrivateAppInternetRoute{i}" for i in (1, 2)} if env == "dev" else set())
    assert ("EndpointSecurityGroup" in live) == bool(interface_endpoints)
    s3_tables = live["S3GatewayEndpoint"]["Properties"]["RouteTableIds"]
    assert s3_tables == [{"Ref": f"PrivateAppRouteTable{i}"} for i in range(1, az_count + 1)]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_parameter_files_fit_the_subnet_layout(t, parameter_files, as_deployed, env):
    """Each live subnet selects an existing list item; tiers nest in the VPC and never overlap."""
    parameters = parameter_files[env]["Parameters"]
    az_count = int(parameters["AzCount"])
    vpc = ipaddress.ip_network(parameters["VpcCidr"])
    live = as_deployed(t, parameters).resources
    tier_blocks, subnet_blocks = [], []
    for tier, (cidrs, tier_cidr, _) in TIERS.items():
        block = ipaddress.ip_network(parameters[tier_cidr])
        assert block.subnet_of(vpc)
        tier_blocks.append(block)
        assert len(items(parameters, cidrs)) == az_count
        subnets = [live[f"{tier}Subnet{i}"]["Properties"] for i in AZS[:az_count]]
        azs = [
            items(parameters, "AvailabilityZones")[s["AvailabilityZone"]["Fn::Select"][0]]
            for s in subnets
        ]
        assert azs == items(parameters, "AvailabilityZones") and len(set(azs)) == az_count
        for s in subnets:
            cidr = ipaddress.ip_network(items(parameters, cidrs)[s["CidrBlock"]["Fn::Select"][0]])
            assert cidr.subnet_of(block), (tier, cidr, block)
            subnet_blocks.append(cidr)
    for a, b in [
        *itertools.combinations(tier_blocks, 2),
        *itertools.combinations(subnet_blocks, 2),
    ]:
        assert not a.overlaps(b), (a, b)


ALL_COMBINATIONS = list(
    itertools.product(
        ["2", "3"], ["none", "single", "per-az"], ["true", "false"], ["true", "false"]
    )
)


@pytest.mark.parametrize(("az_count", "nat_mode", "ecr", "others"), ALL_COMBINATIONS)
def test_every_live_reference_exists_for_every_parameter_combination(
    t, parameter_files, as_deployed, az_count, nat_mode, ecr, others
):
    """No resource or output points at a resource its conditions left out, and no AZ-3 resource
    or list item is used when there are two AZs."""
    parameters = with_params(
        parameter_files["prod"]["Parameters"],
        AzCount=az_count,
        NatMode=nat_mode,
        EnableEcrEndpoints=ecr,
        EnableLogsEndpoint=others,
        EnableSecretsManagerEndpoint=others,
    )
    deployed = as_deployed(t, parameters)
    known = set(t["Parameters"]) | set(deployed.resources)
    for name, node in {**deployed.resources, **deployed.outputs}.items():
        missing = {r for r in references(node) if not r.startswith("AWS::")} - known
        assert not missing, f"{name} refers to {missing}"
        for index, source in selects(node):
            assert index < len(items(parameters, source)), f"{name} selects {source}[{index}]"
    third_az = {n for n in deployed.resources if re.search(r"[a-z]3(?!\d)", n)}
    if az_count == "2":
        assert not third_az
    else:
        assert len(third_az) == 13 + 2 * (nat_mode == "per-az") + (nat_mode != "none")


# --- network ACLs ----------------------------------------------------------------------------


def acl_entries(t: dict, tier: str) -> dict[str, dict]:
    return {
        name: r["Properties"]
        for name, r in resources_of_type(t, "AWS::EC2::NetworkAclEntry").items()
        if r["Properties"]["NetworkAclId"] == ref(f"{tier}NetworkAcl")
    }


def test_three_acls_and_each_subnet_associated_with_its_tiers_acl(t):
    acls = resources_of_type(t, "AWS::EC2::NetworkAcl")
    assert set(acls) == {f"{tier}NetworkAcl" for tier in TIERS}
    assert all(a["Properties"]["VpcId"] == ref("Vpc") for a in acls.values())
    associations = resources_of_type(t, "AWS::EC2::SubnetNetworkAclAssociation")
    assert len(associations) == 9
    for tier, i in TIER_AZS:
        association = associations[f"{tier}Subnet{i}NetworkAclAssociation"]
        assert association.get("Condition") == az_condition(i)
        assert association["Properties"] == {
            "SubnetId": ref(f"{tier}Subnet{i}"),
            "NetworkAclId": ref(f"{tier}NetworkAcl"),
        }


def test_data_tier_acl_admits_only_mysql_from_the_app_tier(t):
    entries = {
        (
            e["Egress"],
            e["Protocol"],
            e["PortRange"]["From"],
            e["PortRange"]["To"],
            e["CidrBlock"]["Ref"],
        )
        for e in acl_entries(t, "PrivateData").values()
    }
    assert entries == {
        (False, 6, 3306, 3306, "AppTierCidr"),
        (True, 6, 1024, 65535, "AppTierCidr"),
    }


def test_acl_entries_are_tcp_allows_with_unique_rule_numbers(t):
    entries = resources_of_type(t, "AWS::EC2::NetworkAclEntry").values()
    assert len(entries) == 16
    numbers = [
        (
            e["Properties"]["NetworkAclId"]["Ref"],
            e["Properties"]["Egress"],
            e["Properties"]["RuleNumber"],
        )
        for e in entries
    ]
    assert len(numbers) == len(set(numbers))
    for entry in entries:
        p = entry["Properties"]
        assert p["Protocol"] == 6  # never -1 (all traffic)
        assert p["RuleAction"] == "allow"  # the implicit deny covers the rest
        assert "PortRange" in p
        assert "Ipv6CidrBlock" not in p


# Stateless ACL simulation: a TCP connection needs the request and its reply to pass the ACLs
# of both ends (the internet has none). Hosts are the first subnet of each tier. Through the NAT
# gateway the reply reaches the app with the remote host as source: the "PrivateApp" ->
# "internet" flow covers that leg.
INTERNET_HOST = "203.0.113.10"
CLIENT_PORTS = (1024, 32768, 65535)


def acl_allows(t, parameters, tier, egress: bool, peer: str, port: int) -> bool:
    for entry in acl_entries(t, tier).values():
        cidr = entry["CidrBlock"]
        cidr = parameters[cidr["Ref"]] if isinstance(cidr, dict) else cidr
        low, high = (
            int(parameters[v["Ref"]]) if isinstance(v, dict) else v
            for v in (entry["PortRange"]["From"], entry["PortRange"]["To"])
        )
        if (
            entry["Egress"] is egress
            and low <= port <= high
            and ipaddress.ip_address(peer) in ipaddress.ip_network(cidr)
        ):
            return True
    return False


def host(parameters, place: str) -> str:
    if place == "internet":
        return INTERNET_HOST
    first = items(parameters, TIERS[place][0])[0]
    return str(ipaddress.ip_network(first)[10])


def tcp_connects(t, parameters, client: str, server: str, port: int) -> bool:
    c, s = host(parameters, client), host(parameters, server)
    for client_port in CLIENT_PORTS:
        steps = [
            (client, True, s, port),  # request leaves the client's subnet
            (server, False, c, port),  # request enters the server's subnet
            (server, True, c, client_port),  # reply leaves
            (client, False, s, client_port),  # reply enters
        ]
        for tier, egress, peer, p in steps:
            if tier != "internet" and not acl_allows(t, parameters, tier, egress, peer, p):
                return False
    return True


APP_PORT = "AppPort"
ALLOWED_FLOWS = [
    ("internet", "Public", 443),  # viewers/CloudFront to the ALB
    ("internet", "Public", 80),  # redirected to HTTPS
    ("Public", "PrivateApp", APP_PORT),  # ALB to the tasks
    ("PrivateApp", "PrivateApp", 443),  # interface endpoints
    ("PrivateApp", "PrivateApp", 3306),  # RDS Proxy
    ("PrivateApp", "PrivateData", 3306),  # proxy, tasks and jobs to RDS
    ("PrivateApp", "Public", 443),  # into the NAT gateway ...
    ("Public", "internet", 443),  # ... and out of it
    ("PrivateApp", "internet", 443),  # S3 through the gateway endpoint
]
DENIED_FLOWS = [
    ("Public", "PrivateData", 3306),
    ("internet", "PrivateData", 3306),
    ("PrivateData", "internet", 443),
    ("PrivateData", "Public", 443),
    ("PrivateData", "PrivateApp", 443),
    ("PrivateApp", "PrivateData", 22),
    ("PrivateApp", "PrivateData", 5432),
    ("internet", "PrivateApp", 443),
    ("Public", "PrivateApp", 22),
]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_acls_pass_the_flows_the_app_needs_and_block_the_rest(t, parameter_files, env):
    parameters = parameter_files[env]["Parameters"]

    def port(p):
        return int(parameters[p]) if p == APP_PORT else p

    blocked = [f for f in ALLOWED_FLOWS if not tcp_connects(t, parameters, f[0], f[1], port(f[2]))]
    passed = [f for f in DENIED_FLOWS if tcp_connects(t, parameters, f[0], f[1], port(f[2]))]
    assert (blocked, passed) == ([], [])


# --- VPC endpoints ---------------------------------------------------------------------------


def test_s3_gateway_endpoint_is_unconditional_on_the_app_route_tables_only(t):
    endpoint = t["Resources"]["S3GatewayEndpoint"]
    assert "Condition" not in endpoint
    p = endpoint["Properties"]
    assert p["VpcId"] == ref("Vpc")
    assert p["VpcEndpointType"] == "Gateway"
    assert p["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"}
    condition, three, two = p["RouteTableIds"]["Fn::If"]
    assert condition == "HasThirdAz"
    # The data tier gets no route out of the VPC, not even the S3 prefix list's.
    assert [r["Ref"] for r in three] == [f"PrivateAppRouteTable{i}" for i in AZS]
    assert [r["Ref"] for r in two] == [f"PrivateAppRouteTable{i}" for i in (1, 2)]


@pytest.mark.parametrize(
    ("title", "condition", "service"), [(k, *v) for k, v in INTERFACE_ENDPOINTS.items()]
)
def test_interface_endpoint(t, title, condition, service):
    endpoint = t["Resources"][title]
    assert endpoint["Condition"] == condition
    assert endpoint["Properties"] == {
        "VpcId": ref("Vpc"),
        "VpcEndpointType": "Interface",
        "ServiceName": {"Fn::Sub": f"com.amazonaws.${{AWS::Region}}.{service}"},
        "PrivateDnsEnabled": True,
        "SubnetIds": {
            "Fn::If": [
                "EndpointsInOneAz",
                [ref("PrivateAppSubnet1")],
                per_az([ref(f"PrivateAppSubnet{i}") for i in AZS]),
            ]
        },
        "SecurityGroupIds": [ref("EndpointSecurityGroup")],
        "Tags": [{"Key": "Component", "Value": "network"}],
    }


def test_only_the_five_expected_endpoints(t):
    assert set(resources_of_type(t, "AWS::EC2::VPCEndpoint")) == {
        "S3GatewayEndpoint",
        *INTERFACE_ENDPOINTS,
    }


def test_endpoint_security_group_admits_only_https_from_the_vpc_and_has_no_egress(t):
    group = t["Resources"]["EndpointSecurityGroup"]
    assert group["Condition"] == "HasInterfaceEndpoints"
    p = group["Properties"]
    assert p["VpcId"] == ref("Vpc")
    assert p["SecurityGroupIngress"] == [
        {
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "CidrIp": ref("VpcCidr"),
            "Description": "HTTPS from the VPC",
        }
    ]
    assert p["SecurityGroupEgress"] == [NO_EGRESS]  # replaces AWS's allow-all egress rule
    assert list(resources_of_type(t, "AWS::EC2::SecurityGroup")) == ["EndpointSecurityGroup"]


# --- outputs and tags ------------------------------------------------------------------------


def test_outputs(t):
    outputs = {name: o["Value"] for name, o in t["Outputs"].items()}
    assert outputs == {
        "VpcId": ref("Vpc"),
        "DefaultSecurityGroupId": {"Fn::GetAtt": ["Vpc", "DefaultSecurityGroup"]},
        "VpcCidr": ref("VpcCidr"),
        **{
            output: {
                "Fn::If": [
                    "HasThirdAz",
                    {"Fn::Join": [",", [ref(f"{tier}Subnet{i}") for i in AZS]]},
                    {"Fn::Join": [",", [ref(f"{tier}Subnet{i}") for i in (1, 2)]]},
                ]
            }
            for tier, (_, _, output) in TIERS.items()
        },
    }


def test_every_taggable_resource_has_the_component_tag(template, t):
    taggable = [name for name, r in template.resources.items() if "Tags" in r.props]
    assert len(taggable) >= 30  # VPC, IGW, 9 subnets, 9 route tables, NAT, EIPs, ACLs, ...
    for name in taggable:
        tags = t["Resources"][name]["Properties"]["Tags"]
        assert [tag for tag in tags if tag["Key"] == "Component"] == [
            {"Key": "Component", "Value": "network"}
        ], name
