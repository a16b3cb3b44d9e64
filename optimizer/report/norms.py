"""Norm compliance of a run: one row per norm and scope (county, or one township).

Checks come from a registry of providers, each reading its own keys of ``solution.json`` (and
the run's tables). The built-in ones cover what a coverage case can set: every standard's
``min_share`` and ``zone_min_share``, every zone rule, the budget and ``max_new_sites``; plus any
``norm_compliance.table`` / ``rule_compliance.table`` another model family writes (staffing
quotas, rotation rules). A new family adds its norms with :func:`register_norms` and they
appear in the report's compliance tables and in ``compare``'s ``norms.csv`` without other edits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .rundata import RunData

__all__ = ["NormCheck", "compare_values", "norm_checks", "op_symbol", "register_norms"]

TOL = 1e-9


@dataclass(frozen=True)
class NormCheck:
    """One norm at one scope. Numbers when known (``required``/``achieved``), else text."""

    norm: str
    """Stable id, e.g. ``clinic_20min.min_share``, ``zone_rules[0]``, ``budget``."""
    label: str
    """What the norm says, for people: ``clinic_20min: share within 20 min``."""
    scope: str
    """``county`` or ``zone`` (or a family's own, e.g. ``facility``)."""
    zone: str
    """Zone (or facility) id for non-county scopes, else ''."""
    required: float | str | None
    achieved: float | str | None
    unit: str
    """``share``, ``sites``, a currency (``yuan``) or '' for text."""
    met: bool | None
    source: str = ""
    comparison: str = ">="
    """How achieved is compared with required: ``>=``, ``<=`` or ``<`` (a mean response
    "< 11 min")."""

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


OPS = {">=": "≥", "<=": "≤", "<": "<", ">": ">"}
"""How a comparison is printed (``NormCheck.comparison``)."""


def op_symbol(comparison: str) -> str:
    return OPS.get(comparison, comparison)


def compare_values(achieved: float, required: float, comparison: str, tol: float = TOL) -> bool:
    """Whether ``achieved`` meets ``required`` under ``comparison`` (>=, <=, <, >)."""
    if comparison == ">=":
        return achieved >= required - tol
    if comparison == "<=":
        return achieved <= required + tol
    if comparison == "<":
        return achieved < required
    return achieved > required


Provider = Callable[[RunData], list[NormCheck]]
_PROVIDERS: list[tuple[str, Provider]] = []


def register_norms(name: str) -> Callable[[Provider], Provider]:
    """Decorator: add a provider of norm checks (replacing one of the same name)."""

    def deco(fn: Provider) -> Provider:
        _PROVIDERS[:] = [(n, f) for n, f in _PROVIDERS if n != name]
        _PROVIDERS.append((name, fn))
        return fn

    return deco


def norm_checks(run: RunData) -> list[NormCheck]:
    out: list[NormCheck] = []
    for _, fn in _PROVIDERS:
        out.extend(fn(run))
    return out


def _thr_text(std: dict[str, Any]) -> str:
    thr = std.get("minutes", std.get("metres", std.get("threshold")))
    unit = "min" if "minutes" in std else ("m" if "metres" in std else std.get("unit", ""))
    if isinstance(thr, dict):
        return "/".join(f"{v:g} {unit} ({k})" for k, v in thr.items())
    return f"{thr:g} {unit}" if isinstance(thr, (int, float)) else str(thr)


@register_norms("coverage")
def _coverage_norms(run: RunData) -> list[NormCheck]:
    out: list[NormCheck] = []
    by_name = {s["name"]: s for s in run.standards}
    for name, cov in run.coverage.items():
        std = by_name.get(name, cov)
        what = f"{name}: share within {_thr_text(std)}"
        src = str(cov.get("source") or std.get("source") or "")
        if cov.get("min_share") is not None:
            out.append(
                NormCheck(
                    f"{name}.min_share",
                    what,
                    "county",
                    "",
                    float(cov["min_share"]),
                    cov.get("share"),
                    "share",
                    cov.get("met"),
                    src,
                )
            )
        for z, zc in sorted((cov.get("by_zone") or {}).items()):
            if zc.get("required") is None:
                continue
            out.append(
                NormCheck(
                    f"{name}.zone_min_share",
                    what,
                    "zone",
                    str(z),
                    float(zc["required"]),
                    zc.get("share"),
                    "share",
                    zc.get("met"),
                    src,
                )
            )
    return out


def _rule_zones(run: RunData, rule: dict[str, Any]) -> list[str]:
    if run.zones is None:
        return []
    zones = run.zones
    ids = zones["zone_id"].astype(str).tolist()
    if rule.get("zones", "all") != "all":
        wanted = set(map(str, rule["zones"]))
        ids = [z for z in ids if z in wanted]
    kinds = rule.get("zone_kinds")
    if kinds is not None and "kind" in zones:
        kind_of = dict(zip(zones["zone_id"].astype(str), zones["kind"].astype(str), strict=True))
        ids = [z for z in ids if kind_of.get(z, "") in set(kinds)]
    return ids


def open_sites_per_zone(run: RunData, types: list[str] | None) -> dict[str, int]:
    """Open sites (chosen = 1) of the given types (None: all) per zone, from sites.csv."""
    if run.sites is None or "zone" not in run.sites or "chosen" not in run.sites:
        return {}
    s = run.sites
    mask = s["chosen"].fillna(0).astype(int).to_numpy() == 1
    if types is not None:
        mask &= s["facility_type"].isin(types).to_numpy()
    counts = s.loc[mask, "zone"].astype(str).value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def _cap_label(rule: dict[str, Any], what: str) -> str:
    """The zone rule's cap in words: max_sites (large zones' own), residents per site."""
    parts = []
    if rule.get("max_sites") is not None:
        parts.append(
            f"<= {rule['max_sites']} open {what} per township"
            + (
                f" ({rule['large_zones']['max_sites']} over "
                f"{rule['large_zones']['over_residents']:,.0f} residents)"
                if rule.get("large_zones")
                else ""
            )
        )
    band = rule.get("residents_per_site")
    if band is not None:
        parts.append(f"<= 1 open {what} per {band['min']:,.0f} residents (rounded up) per zone")
    return "; ".join(parts)


@register_norms("zone_rules")
def _zone_rule_norms(run: RunData) -> list[NormCheck]:
    if not run.has_plan:
        return []
    out: list[NormCheck] = []
    for k, rule in enumerate(run.solution.get("model", {}).get("zone_rules", []) or []):
        types = rule.get("facility_types")
        counts = open_sites_per_zone(run, types)
        need = int(rule.get("min_sites", 0))
        what = "/".join(types) if types else "sites"
        density = rule.get("per_10k_residents")
        band = rule.get("residents_per_site")
        label = (
            f">= {density:g} open {what} per 10,000 residents per township"
            + (f" (at least {need})" if need else "")
            if density is not None
            else f">= {need} open {what} per township"
        )
        if band is not None:
            label = f">= 1 open {what} per {band['max']:,.0f} residents per zone" + (
                f" (at least {need})" if need else ""
            )
        required = rule.get("required") or {}
        allowed = rule.get("allowed") or {}
        for z in _rule_zones(run, rule):
            got = counts.get(z, 0)
            if z in allowed and allowed[z] is not None:
                out.append(
                    NormCheck(
                        f"zone_rules[{k}].max",
                        _cap_label(rule, what),
                        "zone",
                        z,
                        float(allowed[z]),
                        float(got),
                        "sites",
                        got <= allowed[z],
                        str(rule.get("source") or ""),
                        comparison="<=",
                    )
                )
            if not need and density is None and band is None:
                continue
            need_z = int(required.get(z, need))
            out.append(
                NormCheck(
                    f"zone_rules[{k}]",
                    label,
                    "zone",
                    z,
                    float(need_z),
                    float(got),
                    "sites",
                    got >= need_z,
                    str(rule.get("source") or ""),
                )
            )
    return out


@register_norms("budget_and_counts")
def _budget_norms(run: RunData) -> list[NormCheck]:
    if not run.has_plan:
        return []
    sol = run.solution
    model = sol.get("model", {})
    out: list[NormCheck] = []
    cost = sol.get("cost") or {}
    budget = model.get("budget")
    if budget is not None:
        total = cost.get("total")
        out.append(
            NormCheck(
                "budget",
                "total cost of new sites plus net closures within the budget",
                "county",
                "",
                float(budget),
                total,
                str(cost.get("unit", "yuan")),
                None if total is None else bool(total <= budget + 1e-6 * max(1.0, budget)),
                comparison="<=",
            )
        )
    p = model.get("max_new_sites")
    counts = sol.get("counts") or {}
    if isinstance(p, (int, float)):
        new = sum(int(c.get("new", 0)) for c in counts.values())
        out.append(
            NormCheck(
                "max_new_sites",
                "new sites, all types",
                "county",
                "",
                float(p),
                float(new),
                "sites",
                new <= p,
                comparison="<=",
            )
        )
    elif isinstance(p, dict):
        for t, limit in sorted(p.items()):
            new = int((counts.get(t) or {}).get("new", 0))
            out.append(
                NormCheck(
                    f"max_new_sites.{t}",
                    f"new '{t}' sites",
                    "county",
                    "",
                    float(limit),
                    float(new),
                    "sites",
                    new <= limit,
                    comparison="<=",
                )
            )
    return out


@register_norms("family_tables")
def _family_tables(run: RunData) -> list[NormCheck]:
    """Compliance tables written by other model families (``*_compliance.table`` rows)."""
    out: list[NormCheck] = []
    for key in sorted(k for k in run.solution if k.endswith("_compliance")):
        block = run.solution[key]
        rows = block.get("table") if isinstance(block, dict) else None
        if not isinstance(rows, list):
            continue
        for row in rows:
            if not isinstance(row, dict):
                continue
            norm = str(row.get("norm") or row.get("rule") or key)
            scope = str(row.get("scope") or "county")
            where = row.get("zone") or row.get("facility_id") or row.get("facility") or ""
            met = row.get("met")
            out.append(
                NormCheck(
                    norm,
                    str(row.get("label") or norm),
                    scope,
                    str(where),
                    _num_or_text(row.get("required")),
                    _num_or_text(row.get("achieved")),
                    str(row.get("unit") or ""),
                    None if met is None else bool(met),
                    str(row.get("source") or ""),
                )
            )
    return out


def _num_or_text(v: Any) -> float | str | None:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    return str(v)


def fmt_value(v: float | str | None, unit: str) -> str:
    """A required/achieved value for tables: 95.00% for shares, 1,234 for counts and money."""
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if unit == "share":
        return f"{100 * v:.2f}%"
    if unit in ("sites", "vehicles"):
        return f"{v:,.0f}"
    if unit == "min":
        return f"{v:,.2f} min"
    if unit == "m":
        return f"{v:,.0f} m"
    if abs(v) >= 1e4:
        return f"{v:,.0f}"
    return f"{v:,.6g}"
