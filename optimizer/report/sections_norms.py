"""The report's norms section: the norms met and missed, county-wide, per facility and per
township (the townships x norms table)."""

from __future__ import annotations

from html import escape

import pandas as pd

from ..atomic import csv_encoding_of
from .format import num, pct, result_cell
from .i18n import Labels
from .norms import NormCheck, fmt_value, op_symbol
from .page import table_html
from .registry import Context, register_section
from .rundata import RunData

__all__ = ["norms_section", "zone_table_html"]


def _residents(demand: dict) -> float | None:
    """Residents of a run (footfall venues apart); older runs only had ``total_weight``."""
    value = demand.get("residents", demand.get("total_weight"))
    return None if value is None else float(value)


def _op(c: NormCheck) -> str:
    """The comparison sign shown before a requirement ('' when a text requirement has its own)."""
    if isinstance(c.required, str) and any(ch in c.required for ch in "≥≤<>="):
        return ""  # e.g. staffing rules: "≥ 1 doctor every month", "posts ≥ current staff"
    return escape(op_symbol(c.comparison))


def _cell(c: NormCheck, t: Labels) -> tuple[str, str]:
    op = _op(c)
    text = (
        f"{escape(t.text(fmt_value(c.achieved, c.unit)))} "
        f"<span class='note'>{op} {escape(t.text(fmt_value(c.required, c.unit)))}</span>"
    )
    cls = "info" if c.met is None else ("met" if c.met else "missed")
    return text, cls


@register_section("norms", order=40, title="norms")
def norms_section(run: RunData, ctx: Context) -> str | None:
    t = ctx.t
    checks = ctx.norms(run)
    zone_checks = [c for c in checks if c.scope == "zone"]
    other = [c for c in checks if c.scope != "zone"]
    if not checks and run.zones is None:
        return None
    parts: list[str] = []
    n_met = sum(1 for c in checks if c.met is True)
    n_missed = sum(1 for c in checks if c.met is False)
    parts.append(
        f'<p><span class="badge optimal">{n_met} {escape(t("norms_met"))}</span> '
        f'<span class="badge {"bad" if n_missed else "optimal"}">{n_missed} {escape(t("norms_missed"))}</span></p>'
    )
    county = [c for c in other if c.scope == "county"]
    grouped = [c for c in other if c.scope != "county"]
    head = [t("norm"), t("zone"), t("required"), t("achieved"), t("result"), t("source")]
    if county:
        body = [_check_cells(c, t, t("county")) for c in county]
        parts.append(
            f"<h3>{escape(t('norms_county'))}</h3>"
            + '<div class="scroll">'
            + table_html(head, body, cls="norms")
            + "</div>"
        )
    if grouped:  # e.g. one row per facility and norm: one collapsible block per norm
        names = _entity_names(run)
        parts.append(f"<h3>{escape(t('norms_entities'))}</h3>")
        for norm in dict.fromkeys(c.norm for c in grouped):
            rows = [c for c in grouped if c.norm == norm]
            missed = sum(1 for c in rows if c.met is False)
            met = sum(1 for c in rows if c.met is True)
            body = [_check_cells(c, t, f"{c.zone} {names.get(c.zone, '')}".strip()) for c in rows]
            summary = (
                f"{escape(t.norm(norm, rows[0].label))} · {t(rows[0].scope)} {len(rows)} · "
                f'<span class="met">{met} {escape(t("norms_met"))}</span> · '
                f'<span class="{"missed" if missed else "met"}">{missed} '
                f"{escape(t('norms_missed'))}</span>"
            )
            parts.append(
                f'<details class="norm-group"{" open" if missed else ""}><summary>{summary}'
                '</summary><div class="scroll">'
                + table_html([t("norm"), t(rows[0].scope), *head[2:]], body, cls="norms")
                + "</div></details>"
            )
    zt = zone_table_html(run, zone_checks, t)
    if zt:
        parts.append(f"<h3>{escape(t('norms_zones'))}</h3>" + zt)
    return "".join(parts)


def _check_cells(c: NormCheck, t: Labels, where: str) -> list[tuple[str, str]]:
    return [
        (escape(t.norm(c.norm, c.label)), ""),
        (escape(where), ""),
        (f"{_op(c)} {escape(t.text(fmt_value(c.required, c.unit)))}", "num"),
        (escape(t.text(fmt_value(c.achieved, c.unit))), "num"),
        result_cell(c.met, t),
        (escape(c.source), "note"),
    ]


def _entity_names(run: RunData) -> dict[str, str]:
    """Names of the facilities (staffing ``posts.csv``) and zones a norm row may name."""
    names = dict(run.zone_names())
    posts = run.folder / "posts.csv"
    if posts.is_file():
        frame = pd.read_csv(
            posts, dtype=str, keep_default_na=False, encoding=csv_encoding_of(posts)
        )
        if "name" in frame:
            names |= dict(zip(frame["facility_id"], frame["name"], strict=True))
    return {k: v for k, v in names.items() if v and v != k}


def zone_table_html(run: RunData, zone_checks: list[NormCheck], t: Labels) -> str:
    """Townships x norms: each zone-scoped norm met/missed with numbers; shares of standards
    without a township target as information; the county row on top."""
    zones = run.zones
    if zones is None or len(zones) == 0:
        return ""
    by = {(c.norm, c.zone): c for c in zone_checks}
    norm_ids: list[str] = []
    labels: dict[str, str] = {}
    for c in zone_checks:
        if c.norm not in norm_ids:
            norm_ids.append(c.norm)
            labels[c.norm] = c.label
    cov = run.coverage
    columns: list[tuple[str, str]] = []  # (kind, key)
    for name in cov:
        nid = f"{name}.zone_min_share"
        columns.append(("norm", nid) if nid in norm_ids else ("info", name))
    columns += [("norm", n) for n in norm_ids if not any(n == k for _, k in columns)]
    head = [t("zone"), t("name"), t("population")]
    for kind, key in columns:
        if kind == "info":
            head.append(f"{key} ({t('share')})")
        elif key.endswith(".zone_min_share"):
            head.append(f"{key.split('.')[0]} ({t('zone_share')})")
        else:
            head.append(t.norm(key, labels.get(key, key)))
    body = []
    county = [
        (escape(t("county")), ""),
        ("", ""),
        (num(_residents(run.solution.get("demand", {}))), "num"),
    ]
    for kind, key in columns:
        name = key.split(".")[0]
        sc = cov.get(name)
        if sc is not None and (kind == "info" or key.endswith(".zone_min_share")):
            met = sc.get("met")
            cls = "info" if met is None else ("met" if met else "missed")
            req = (
                f" <span class='note'>≥ {pct(sc['min_share'])}</span>"
                if sc.get("min_share") is not None
                else ""
            )
            county.append((pct(sc.get("share")) + req, cls))
        else:
            county.append(("", ""))
    body.append(county)
    for _, z in zones.iterrows():
        zid = str(z["zone_id"])
        row = [
            (escape(zid), ""),
            (escape(str(z.get("name", ""))), ""),
            (num(z.get("population")), "num"),
        ]
        for kind, key in columns:
            if kind == "info":
                col = f"share_{key}"
                row.append((pct(z.get(col)) if col in zones else "-", "num info"))
                continue
            check = by.get((key, zid))
            if check is None:
                row.append((escape(t("not_applicable")), "info"))
            else:
                text, cls = _cell(check, t)
                row.append((text, f"num {cls}"))
        body.append(row)
    return '<div class="scroll">' + table_html(head, body) + "</div>"
