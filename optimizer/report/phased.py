"""The roll-out part of the report for phased runs: build order per year and coverage per year.

Reads ``solution.json``'s ``phases`` rows (phase, budget, spent, sites built per type, coverage
share per standard at the end of the phase) and ``sites.csv``'s ``build_phase``; the map colours
new sites by the year they are built (:mod:`optimizer.report.mapview`).
"""

from __future__ import annotations

from html import escape

from .charts import Bar, hbar_chart
from .format import num, pct
from .i18n import add_labels
from .mapview import PHASE_PALETTE
from .page import table_html
from .registry import Context, register_section
from .rundata import RunData

__all__ = ["phased_section"]

add_labels(
    {
        "phases": {"zh": "分年度建设计划", "en": "Roll-out by year"},
        "phase": {"zh": "年度/阶段", "en": "Phase"},
        "build_phase": {"zh": "建设年度", "en": "Built in"},
        "built_in": {"zh": "建于", "en": "built in"},
        "spent": {"zh": "支出", "en": "Spent"},
        "built_sites": {"zh": "本期新建", "en": "Built this phase"},
        "open_total": {"zh": "累计开放", "en": "Open at end"},
        "coverage_by_year": {"zh": "各年度覆盖率", "en": "Coverage per year"},
        "build_order": {"zh": "建设顺序", "en": "Build order"},
    }
)


@register_section("phases", order=36, title="phases")
def phased_section(run: RunData, ctx: Context) -> str | None:
    rows = run.solution.get("phases") or []
    if not rows:
        return None
    t = ctx.t
    stds = [s["name"] for s in run.standards]
    unit = str((run.solution.get("cost") or {}).get("unit", ""))
    existing = 0
    if run.sites is not None and "build_phase" in run.sites:
        existing = int((run.sites["build_phase"] == "existing").sum())
    head = [
        t("phase"),
        f"{t('budget')} ({unit})",
        f"{t('spent')} ({unit})",
        t("built_sites"),
        t("open_total"),
        *[f"{s} ({t('share')})" for s in stds],
        t("objective"),
    ]
    body = []
    open_total = existing
    for k, r in enumerate(rows):
        built = r.get("built") or {}
        n_built = sum(len(v) for v in built.values())
        open_total += n_built
        swatch = (
            f'<span class="swatch" style="background:{PHASE_PALETTE[k % len(PHASE_PALETTE)]}">'
            "</span>"
        )
        cov = r.get("coverage") or {}
        body.append(
            [
                (swatch + escape(str(r.get("phase"))), ""),
                (num(r.get("budget")), "num"),
                (num(r.get("spent")), "num"),
                (num(n_built), "num"),
                (num(open_total), "num"),
                *[(pct(cov.get(s)), "num") for s in stds],
                (num(r.get("objective")), "num"),
            ]
        )
    parts = [table_html(head, body, cls="phase-table")]
    # build order: the sites built in each year, per type
    order_rows = []
    zone_of: dict[str, str] = {}
    if run.sites is not None and "zone" in run.sites:
        zone_of = dict(
            zip(run.sites["site_id"].astype(str), run.sites["zone"].astype(str), strict=True)
        )
    names = run.zone_names()
    for r in rows:
        for ty, ids in sorted((r.get("built") or {}).items()):
            for sid in ids:
                z = zone_of.get(str(sid), "")
                order_rows.append(
                    [
                        (escape(str(r.get("phase"))), ""),
                        (escape(ty), ""),
                        (escape(str(sid)), ""),
                        (escape(names.get(z, z)), ""),
                    ]
                )
    if order_rows:
        parts.append(
            f"<h3>{escape(t('build_order'))} ({len(order_rows)})</h3>"
            + '<div class="scroll">'
            + table_html(
                [t("phase"), t("facility_type"), t("site"), t("zone")],
                order_rows,
                cls="build-order",
            )
            + "</div>"
        )
    # coverage per year: one bar per standard and year
    targets = {s["name"]: s.get("min_share") for s in run.standards}
    bars = [
        Bar(f"{r.get('phase')} · {s}", (r.get("coverage") or {}).get(s), targets.get(s))
        for s in stds
        for r in rows
    ]
    if bars:
        parts.append(hbar_chart(bars, title=t("coverage_by_year")))
    return "".join(parts)
