"""Report section of p-median / p-center runs: average and farthest trip, overall and per zone.

Reads only ``solution.json`` (``travel``, ``model.kind``, ``sites_needed``); other runs have no
``travel`` block and get nothing from this section.
"""

from __future__ import annotations

from html import escape

from .format import kv_table, num
from .i18n import add_labels
from .page import table_html
from .registry import Context, register_section
from .rundata import RunData

__all__: list[str] = []

add_labels(
    {
        "sec_siting_travel": {"en": "Trips to the assigned site", "zh": "到所属站点的出行"},
        "siting_question_p_median": {
            "en": "p-median: least population-weighted mean trip",
            "zh": "p-中位：人口加权平均出行最短",
        },
        "siting_question_p_center": {
            "en": "p-center: least worst trip (the farthest village)",
            "zh": "p-中心：最远村庄的出行最短",
        },
        "siting_mean": {"en": "Average trip (population-weighted)", "zh": "平均出行（人口加权）"},
        "siting_worst": {"en": "Farthest trip", "zh": "最远出行"},
        "siting_worst_point": {"en": "Farthest demand point", "zh": "最远需求点"},
        "siting_sites_needed": {
            "en": "Fewest new sites reaching this radius",
            "zh": "达到该半径所需最少新增站点",
        },
        "siting_method": {"en": "Method", "zh": "方法"},
        "siting_points": {"en": "Demand points", "zh": "需求点"},
        "siting_population": {"en": "Residents", "zh": "人口"},
    }
)


@register_section("siting_travel", order=35, title="sec_siting_travel")
def siting_travel(run: RunData, ctx: Context) -> str | None:
    sol = run.solution
    travel = sol.get("travel")
    kind = str(sol.get("model", {}).get("kind", ""))
    if not isinstance(travel, dict) or kind not in ("p_median", "p_center"):
        return None
    t = ctx.t
    unit = str(travel.get("unit", ""))
    rows = [
        (t(f"siting_question_{kind}"), ""),
        (t("siting_mean"), f"{num(travel.get('mean'))} {escape(unit)}"),
        (t("siting_worst"), f"{num(travel.get('worst'))} {escape(unit)}"),
        (t("siting_worst_point"), escape(str(travel.get("worst_demand_id", "-")))),
    ]
    if sol.get("sites_needed") is not None:
        rows.append((t("siting_sites_needed"), num(sol["sites_needed"])))
    if sol.get("method"):
        rows.append((t("siting_method"), escape(str(sol["method"]))))
    parts = [kv_table(rows)]
    zones = travel.get("zones") or {}
    if zones:
        names = run.zone_names()
        body = [
            [
                (escape(names.get(z, z)), ""),
                (num(b.get("points")), "num"),
                (num(b.get("population")), "num"),
                (num(b.get("mean")), "num"),
                (num(b.get("worst")), "num"),
                (escape(str(b.get("worst_demand_id", "-"))), ""),
            ]
            for z, b in zones.items()
        ]
        parts.append(
            table_html(
                [
                    t("zone"),
                    t("siting_points"),
                    t("siting_population"),
                    f"{t('siting_mean')} ({unit})",
                    f"{t('siting_worst')} ({unit})",
                    t("siting_worst_point"),
                ],
                body,
            )
        )
    return "".join(parts)
