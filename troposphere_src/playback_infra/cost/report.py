"""An estimate as a text table, as JSON, and the environments side by side in Markdown."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence

from playback_infra.cost.estimate import Estimate
from playback_infra.cost.switches import Change
from playback_infra.reference import generated_header


def _money(usd: float) -> str:
    return f"{usd:,.2f}"


def _quantity(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


WIDTH = 100  # columns the table fits by default; --wide shows the quantity and unit price too
MARKERS = (
    ("*", "assumed", "the quantity is a usage assumption (see Assumptions), not read from the templates"),
    ("?", "unsourced", "the unit price was not found in the sources searched (AWS's rate as known)"),
)  # fmt: skip


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, subsequent_indent="    ", break_on_hyphens=False)


def _marked(line, width: int | None = None) -> list[str]:
    """The line's name and its markers, wrapped at `width` (the markers stay on its last row)."""
    marks = "".join(mark for mark, attribute, _ in MARKERS if getattr(line, attribute))
    name = f"{line.service}: {line.item}"
    parts = [name] if width is None else _wrap(name, width - len(marks) - 1)
    return [*parts[:-1], parts[-1] + (f" {marks}" if marks else "")]


def table(estimate: Estimate, wide: bool = False) -> str:
    """The lines, the total, what each marker means and the assumptions (wrapped at WIDTH): the
    table within WIDTH columns (each line's name wrapped, its monthly cost beside it), or `wide`:
    one row per line with its quantity and unit price."""
    headers = ("line", "quantity", "unit price (USD)", "monthly USD")
    total = ("total", "", "", _money(estimate.total_usd))
    if wide:
        rows = [
            (*_marked(line), _quantity(line.quantity), f"{line.unit_usd:g} / {line.unit}",
             _money(line.monthly_usd))
            for line in estimate.lines
        ]  # fmt: skip
    else:
        headers, total = (headers[0], headers[3]), (total[0], total[3])
        money = max(len(headers[1]), len(total[1]), *(len(_money(x.monthly_usd)) for x in estimate.lines))  # fmt: skip
        rows = [
            (part, _money(line.monthly_usd) if i == 0 else "")
            for line in estimate.lines
            for i, part in enumerate(_marked(line, WIDTH - 2 - money))
        ]
    numeric = {len(headers) - 1, *((1,) if wide else ())}
    widths = [max(len(row[i]) for row in [headers, *rows, total]) for i in range(len(headers))]

    def render(row) -> str:
        return "  ".join(
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    rule = render(tuple("-" * w for w in widths))
    out = [
        f"Estimated monthly cost of {estimate.environment} ({estimate.kind})",
        "",
        render(headers),
        rule,
        *(render(row) for row in rows),
        rule,
        render(total),
        "",
        *(f"{mark} {meaning}" for mark, _, meaning in MARKERS),
        "",
        "Assumptions:",
        *(part for a in estimate.assumptions for part in _wrap(f"  - {a}", WIDTH)),
    ]
    if not wide:
        out += ["", "(`--wide` adds each line's quantity and unit price)"]
    return "\n".join(out) + "\n"


def as_json(estimate: Estimate) -> str:
    return (
        json.dumps(
            {
                "environment": estimate.environment,
                "kind": estimate.kind,
                "currency": "USD",
                "lines": [
                    {
                        "service": line.service,
                        "item": line.item,
                        "quantity": line.quantity,
                        "unit": line.unit,
                        "unit_usd": line.unit_usd,
                        "monthly_usd": round(line.monthly_usd, 4),
                        "assumed": line.assumed,
                        "unsourced": line.unsourced,
                    }
                    for line in estimate.lines
                ],
                "total_usd": round(estimate.total_usd, 2),
                "assumptions": list(estimate.assumptions),
            },
            indent=2,
        )
        + "\n"
    )


def _by_service(estimate: Estimate) -> dict[str, float]:
    totals: dict[str, float] = {}
    for line in estimate.lines:
        totals[line.service] = totals.get(line.service, 0) + line.monthly_usd
    return totals


def side_by_side(estimates: Sequence[Estimate], switches: Sequence[Change] = ()) -> str:
    """Markdown: every environment's cost by service group, its total and its biggest lines."""
    totals = [_by_service(e) for e in estimates]
    services = list(dict.fromkeys(s for t in totals for s in t))
    names = [f"{e.environment} ({e.kind})" for e in estimates]
    out = generated_header("Estimated monthly cost", "cost/", [
        "What each environment would cost a month at the prices and usage assumptions in",
        "`troposphere_src/playback_infra/cost/prices_us_east_1.json`, from the generated templates",
        "and parameter files (edge-global included). `playback-infra cost --env ENV` prints every",
        "line with its quantity and unit price, and the assumptions.",
        "",
        "| service | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(estimates),
    ])  # fmt: skip
    for service in services:
        out.append(f"| {service} | " + " | ".join(_money(t.get(service, 0)) for t in totals) + " |")
    out.append(
        "| **total (USD a month)** | "
        + " | ".join(f"**{_money(e.total_usd)}**" for e in estimates)
        + " |"
    )
    out += ["", "Biggest lines:", ""]
    for e in estimates:
        biggest = "; ".join(
            f"{line.service}: {line.item} {_money(line.monthly_usd)}" for line in e.biggest(3)
        )
        out.append(f"- **{e.environment}**: {biggest}")
    if switches:
        out += [
            "",
            "## What the switches change",
            "",
            "The estimate again with some parameter values changed (USD a month; a blank cell: the",
            "environment already has that value). These are parameter values: the environment model",
            "may refuse some of them for an environment (production requires per-az NAT,",
            "Multi-AZ, its regional WAF and endpoints in every AZ; NAT `none` requires the",
            "endpoints; NAT `public-ips` is for development and requires the Secrets Manager",
            "and RDS endpoints; a database class must hold max_app_tasks x 10 connections and 10",
            "more).",
            "",
            "| switch | " + " | ".join(e.environment for e in estimates) + " |",
            "|---|" + "---:|" * len(estimates),
        ]
        for change in switches:
            cells = [change.delta_usd.get(e.environment) for e in estimates]
            out.append(
                f"| {change.switch} | "
                + " | ".join("" if d is None else f"{d:+,.2f}" for d in cells)
                + " |"
            )
    return "\n".join(out) + "\n"
