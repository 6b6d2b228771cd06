"""Subnet CIDRs computed from the VPC CIDR.

The VPC is cut into tier blocks, each a single CIDR so that a network ACL rule can name a
whole tier:

    first half      private-app tier   (Fargate tasks, jobs, RDS Proxy, interface endpoints)
    third quarter   public tier        (ALB, NAT gateways)
    fourth quarter  private-data tier  (RDS)

Each tier block holds four equal subnets, one per AZ slot; slots 1-3 are used by AZs 1-3 and
slot 4 is spare. Slots are fixed whatever the AZ count, so going from two AZs to three adds
subnets without renumbering (a changed subnet CIDR replaces the subnet and all in it).
For a /16: app subnets /19 (8,187 usable addresses), public and data subnets /20 (4,091).
"""

from dataclasses import dataclass
from ipaddress import IPv4Network

SLOTS_PER_TIER = 4
# AWS keeps five addresses of every subnet (network, router, DNS, future, broadcast).
AWS_RESERVED_PER_SUBNET = 5


@dataclass(frozen=True)
class Tier:
    """One tier: its block and its subnets, one per AZ in use."""

    block: IPv4Network
    subnets: tuple[IPv4Network, ...]

    @property
    def usable_per_subnet(self) -> int:
        return self.subnets[0].num_addresses - AWS_RESERVED_PER_SUBNET


@dataclass(frozen=True)
class SubnetLayout:
    public: Tier
    app: Tier
    data: Tier

    def all_subnets(self) -> tuple[IPv4Network, ...]:
        return self.public.subnets + self.app.subnets + self.data.subnets


def _tier(block: IPv4Network, az_count: int) -> Tier:
    slots = list(block.subnets(prefixlen_diff=2))  # SLOTS_PER_TIER == 4 == 2**2
    return Tier(block=block, subnets=tuple(slots[:az_count]))


def plan_subnets(vpc: IPv4Network, az_count: int) -> SubnetLayout:
    """The layout for a VPC of at most /26 (a smaller one cannot be cut into slots)."""
    app_block, rest = vpc.subnets(prefixlen_diff=1)
    public_block, data_block = rest.subnets(prefixlen_diff=1)
    return SubnetLayout(
        public=_tier(public_block, az_count),
        app=_tier(app_block, az_count),
        data=_tier(data_block, az_count),
    )
