"""The price table and usage assumptions (`prices_us_east_1.json`), read into typed objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICE_FILE = Path(__file__).with_name("prices_us_east_1.json")


@dataclass(frozen=True)
class Price:
    key: str
    usd: float
    unit: str
    sourced: bool
    source: str


@dataclass(frozen=True)
class InstanceClass:
    name: str
    usd_hour: float
    vcpus: int
    sourced: bool


@dataclass(frozen=True)
class PriceTable:
    region: str
    retrieved: str
    hours_per_month: float
    prices: dict[str, Price]
    instance_classes: dict[str, InstanceClass]
    instance_source: str
    usage: dict[str, dict[str, Any]]
    """Environment kind -> usage assumptions (GB, requests, hours a month)."""

    def __getitem__(self, key: str) -> Price:
        return self.prices[key]

    def instance(self, name: str) -> InstanceClass:
        try:
            return self.instance_classes[name]
        except KeyError:
            known = ", ".join(sorted(self.instance_classes))
            raise KeyError(
                f"no price for RDS instance class {name!r} in {PRICE_FILE.name} (known: {known})"
            ) from None

    def usage_for(self, kind: str) -> dict[str, Any]:
        try:
            return self.usage[kind]
        except KeyError:
            raise KeyError(f"no usage assumptions for environment kind {kind!r}") from None


def parse(content: dict) -> PriceTable:
    classes = content["rds_mysql_instance_hour"]
    return PriceTable(
        region=content["region"],
        retrieved=content["retrieved"],
        hours_per_month=content["hours_per_month"],
        prices={
            key: Price(key, p["usd"], p["unit"], p["sourced"], p["source"])
            for key, p in content["prices"].items()
        },
        instance_classes={
            name: InstanceClass(name, c["usd"], c["vcpus"], c["sourced"])
            for name, c in classes["classes"].items()
        },
        instance_source=classes["source"],
        usage={kind: u for kind, u in content["usage"].items() if kind != "note"},
    )


def load(path: Path = PRICE_FILE) -> PriceTable:
    return parse(json.loads(path.read_text()))
