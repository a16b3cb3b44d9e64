"""The 120 (EMS) part of the report: fleet norms, response-time compliance, expected coverage.

Norms, in ../shared/MISSION.md's words and numbers (values from the case, never hard-coded):

* 120 fleet: **>= 1 ambulance per 30,000** resident population; **>= 20%** negative-pressure
  (Zhuji) - county-wide;
* 120 EMS, urban: service radius **<= 3.5 km**, mean response **< 11 min**; rural: service
  radius **8-10 km**, mean response **< 15 min** (Yueqing) - county-wide per demand class, and
  the mean response per township and class;
* 120 EMS, rural: **>= 1 station per township** (建制乡镇) (Yueqing) - per township;
* the case's ``min_share`` / ``zone_min_share`` within the response standard are checked by the
  coverage provider (``coverage.ems`` has the coverage runs' shape).
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from .format import kv_table, num, pct, result_cell
from .i18n import Labels, add_labels
from .norms import NormCheck, compare_values, fmt_value, op_symbol, register_norms
from .page import table_html
from .registry import Context, register_section
from .rundata import RunData

__all__ = ["ems_norms"]

add_labels(
    {
        "ems": {"zh": "120 急救站点与车辆", "en": "120 stations and fleet"},
        "ems_fleet": {"zh": "车辆配置规范", "en": "Fleet norms"},
        "ems_stations": {"zh": "站点与车辆", "en": "Stations and ambulances"},
        "ems_response": {"zh": "急救反应时间达标情况", "en": "Response-time compliance"},
        "ems_response_zones": {
            "zh": "分乡镇反应时间达标表",
            "en": "Response-time compliance per township",
        },
        "ems_expected": {
            "zh": "期望覆盖（考虑车辆繁忙）",
            "en": "Expected coverage (busy ambulances)",
        },
        "ambulances": {"zh": "救护车", "en": "Ambulances"},
        "existing_fleet": {"zh": "现有站点与车辆", "en": "Existing stations and ambulances"},
        "existing_fleet_assumed": {
            "zh": "（假定：站点表无 vehicles 列，每个现有站点按 1 辆已购救护车计）",
            "en": "(ASSUMED: no vehicles column; 1 paid-for ambulance per existing station)",
        },
        "negative_pressure": {"zh": "负压救护车", "en": "Negative-pressure"},
        "stations": {"zh": "站点", "en": "Stations"},
        "demand_class": {"zh": "区域类别", "en": "Class"},
        "response_standard": {"zh": "反应时间标准", "en": "Response standard"},
        "within_standard": {"zh": "标准内人口比例", "en": "Share within standard"},
        "mean_response": {"zh": "平均反应时间", "en": "Mean response"},
        "worst_response": {"zh": "最长反应时间", "en": "Worst response"},
        "service_radius": {"zh": "服务半径", "en": "Service radius"},
        "within_radius": {"zh": "半径内人口比例", "en": "Share within radius"},
        "dispatch_min": {"zh": "调度时间", "en": "Dispatch"},
        "busy_fraction": {"zh": "车辆繁忙率 q", "en": "Busy fraction q"},
        "expected_covered": {"zh": "期望覆盖人口", "en": "Expected residents covered"},
        "backup_covered": {
            "zh": "双重覆盖人口（≥2 辆车）",
            "en": "Backup-covered residents (2+ ambulances)",
        },
        "expected_share": {"zh": "期望覆盖率", "en": "Expected share"},
        "fleet_per_population": {"zh": "每 3 万人救护车", "en": "Ambulances per population"},
        "required_stations": {"zh": "要求站点数", "en": "Stations required"},
        "all_classes": {"zh": "全部", "en": "all"},
        "vehicle_changes": {"zh": "救护车配置变化", "en": "Ambulance changes"},
    }
)


def _fleet(run: RunData) -> dict[str, Any]:
    return dict(run.solution.get("fleet") or {})


def _class_limits(value: Any, classes: list[str]) -> dict[str, float]:
    if isinstance(value, dict):
        return {c: float(value[c]) for c in classes if c in value}
    if isinstance(value, (int, float)):
        return {c: float(value) for c in classes}
    return {}


def _classes(run: RunData) -> list[str]:
    resp = run.solution.get("response") or {}
    classes = sorted(k for k in resp if k != "overall")
    return classes or ["all"]


@register_norms("ems")
def ems_norms(run: RunData) -> list[NormCheck]:
    """The 120 norms of a 120 run (county-wide, per class and per township)."""
    if not run.is_ems or not run.has_plan:
        return []
    sol = run.solution
    model = sol.get("model", {})
    fleet_cfg = model.get("fleet", {}) or {}
    fl = _fleet(run)
    fsrc = str(fl.get("source") or fleet_cfg.get("source") or "")
    rsrc = str(model.get("source") or "")
    out: list[NormCheck] = []
    n_amb = float(fl.get("ambulances", 0))
    per = fl.get("norm_per_population")
    if per:
        need = float(fl.get("norm_minimum", 0))
        out.append(
            NormCheck(
                "ems.fleet_per_population",
                f">= 1 ambulance per {per:,.0f} residents "
                f"({num(fl.get('population_for_norm'))} residents)",
                "county",
                "",
                need,
                n_amb,
                "vehicles",
                compare_values(n_amb, need, ">="),
                fsrc,
            )
        )
    share = fleet_cfg.get("negative_pressure_share")
    if share:
        got = float(fl.get("negative_pressure_share") or 0.0)
        out.append(
            NormCheck(
                "ems.negative_pressure_share",
                f">= {100 * share:g}% negative-pressure ambulances "
                f"({fl.get('negative_pressure', 0)} of {int(n_amb)}; "
                f">= {fl.get('negative_pressure_required', 0)} required)",
                "county",
                "",
                float(share),
                got,
                "share",
                int(fl.get("negative_pressure", 0)) >= int(fl.get("negative_pressure_required", 0)),
                fsrc,
            )
        )
    limit_new = model.get("max_new_stations")
    if limit_new is not None:
        new = len((sol.get("new_sites") or {}).get(str(model.get("station_type", "ems")), []))
        out.append(
            NormCheck(
                "ems.max_new_stations",
                "new 120 stations",
                "county",
                "",
                float(limit_new),
                float(new),
                "sites",
                new <= limit_new,
                comparison="<=",
            )
        )
    classes = _classes(run)
    resp = sol.get("response") or {}
    standard = _class_limits(model.get("response_min"), classes)
    for c, limit in standard.items():
        mean = (resp.get(c) if c != "all" else resp.get("overall") or {}) or {}
        m = mean.get("mean_min")
        out.append(
            NormCheck(
                f"ems.mean_response.{c}",
                f"120 {c}: mean response < {limit:g} min (dispatch included)",
                "county",
                "",
                limit,
                m,
                "min",
                None if m is None else compare_values(float(m), limit, "<"),
                rsrc,
                comparison="<",
            )
        )
    for c, r in sorted((sol.get("radius") or {}).items()):
        out.append(
            NormCheck(
                f"ems.radius.{c}",
                f"120 {c}: residents within the {float(r['radius_m']) / 1000:g} km "
                "service radius (by road)",
                "county",
                "",
                1.0,
                r.get("share"),
                "share",
                None if r.get("share") is None else compare_values(float(r["share"]), 1.0, ">="),
                rsrc,
            )
        )
    zones = run.zones
    if zones is not None and "zone_id" in zones:
        for _, z in zones.iterrows():
            zid = str(z["zone_id"])
            zneed = z.get("required_stations")
            if zneed is not None and pd.notna(zneed):
                got = float(z.get("stations") or 0)
                out.append(
                    NormCheck(
                        "ems.stations_per_zone",
                        f">= {float(zneed):g} 120 station(s) per township (建制乡镇)",
                        "zone",
                        zid,
                        float(zneed),
                        got,
                        "sites",
                        compare_values(got, float(zneed), ">="),
                        rsrc,
                    )
                )
            for c, limit in standard.items():
                col = f"mean_response_{c}_min"
                v = z.get(col) if col in zones else None
                if v is None or pd.isna(v):
                    continue
                out.append(
                    NormCheck(
                        f"ems.mean_response.{c}",
                        f"120 {c}: mean response < {limit:g} min (dispatch included)",
                        "zone",
                        zid,
                        limit,
                        float(v),
                        "min",
                        compare_values(float(v), limit, "<"),
                        rsrc,
                        comparison="<",
                    )
                )
    return out


def _check_row(c: NormCheck, t: Labels) -> list[tuple[str, str]]:
    return [
        (escape(c.label), ""),
        (f"{escape(op_symbol(c.comparison))} {escape(fmt_value(c.required, c.unit))}", "num"),
        (escape(fmt_value(c.achieved, c.unit)), "num"),
        result_cell(c.met, t),
        (escape(c.source), "note"),
    ]


@register_section("ems", order=35, title="ems")
def ems_section(run: RunData, ctx: Context) -> str | None:
    """Fleet norms, stations and ambulances, response-time compliance, expected coverage."""
    if not run.is_ems or not run.has_plan:
        return None
    t, sol = ctx.t, run.solution
    model = sol.get("model", {})
    fl = _fleet(run)
    checks = ctx.norms(run)
    parts: list[str] = []
    # fleet norms
    fleet_rows = [
        _check_row(c, t)
        for c in checks
        if c.norm.startswith(("ems.fleet", "ems.negative", "ems.max_new"))
    ]
    fleet_cfg = model.get("fleet", {}) or {}
    info = [
        (t("ambulances"), f"{num(fl.get('ambulances'))}"),
        (
            t("negative_pressure"),
            f"{num(fl.get('negative_pressure'))} ({pct(fl.get('negative_pressure_share'))})",
        ),
    ]
    if fleet_cfg.get("fleet_size") is not None:
        info.append(("fleet_size", num(fleet_cfg.get("fleet_size"))))
    info.append(("max_per_station", num(fleet_cfg.get("max_per_station"))))
    ex = fl.get("existing") or {}
    if ex.get("stations"):
        text = (
            f"{num(ex.get('stations'))} {t('stations')}, {num(ex.get('ambulances'))} "
            f"({num(ex.get('negative_pressure'))} {t('negative_pressure')})"
        )
        if ex.get("assumed"):
            text += f" <b>{escape(t('existing_fleet_assumed'))}</b>"
        info.append((t("existing_fleet"), text))
    parts.append(
        f"<h3>{escape(t('ems_fleet'))}</h3>"
        + kv_table(info)
        + (
            table_html(
                [t("norm"), t("required"), t("achieved"), t("result"), t("source")],
                fleet_rows,
                cls="ems-fleet",
            )
            if fleet_rows
            else ""
        )
    )
    # stations and ambulances
    s = run.sites
    if s is not None and "open" in s:
        sub = s[s["open"] == 1]
        body = [
            [
                (escape(str(r["site_id"])), ""),
                (escape(str(r.get("zone", ""))), ""),
                (escape(str(r.get("status", ""))), ""),
                (num(r.get("ambulances")), "num"),
                (num(r.get("negative_pressure")), "num"),
                (num(r.get("cost")), "num"),
                (num(r.get("residents_nearest")), "num"),
            ]
            for _, r in sub.iterrows()
        ]
        parts.append(
            f"<h3>{escape(t('ems_stations'))} ({len(sub)})</h3>"
            + '<div class="scroll">'
            + table_html(
                [
                    t("site"),
                    t("zone"),
                    t("status_site"),
                    t("ambulances"),
                    t("negative_pressure"),
                    t("cost"),
                    t("residents_nearest"),
                ],
                body,
                cls="ems-stations",
            )
            + "</div>"
        )
    # response-time compliance by class
    cov = (run.coverage.get("ems") or {}) if run.coverage else {}
    classes = _classes(run)
    resp = sol.get("response") or {}
    standard = _class_limits(model.get("response_min"), classes)
    radius = sol.get("radius") or {}
    by_class = cov.get("by_class") or {}
    body = []
    for c in classes:
        r = (resp.get(c) if c != "all" else resp.get("overall")) or {}
        mean = r.get("mean_min")
        limit = standard.get(c)
        met = None if mean is None or limit is None else compare_values(float(mean), limit, "<")
        rad = radius.get(c) or {}
        body.append(
            [
                (escape(t("all_classes") if c == "all" else c), ""),
                ("-" if limit is None else f"&lt; {limit:g} min", "num"),
                (pct(by_class.get(c, cov.get("share") if c == "all" else None)), "num"),
                (num(mean, 2), "num"),
                (num(r.get("worst_min"), 2), "num"),
                result_cell(met, t),
                (
                    "-"
                    if not rad
                    else f"{float(rad['radius_m']) / 1000:g} km: {pct(rad.get('share'))}",
                    "num",
                ),
            ]
        )
    parts.append(
        f"<h3>{escape(t('ems_response'))}</h3>"
        + f'<p class="note">{escape(t("dispatch_min"))}: {num(model.get("dispatch_min"))} min. '
        + escape(str(model.get("source") or ""))
        + "</p>"
        + table_html(
            [
                t("demand_class"),
                t("response_standard"),
                t("within_standard"),
                t("mean_response") + " (min)",
                t("worst_response") + " (min)",
                t("result"),
                t("within_radius"),
            ],
            body,
            cls="ems-classes",
        )
    )
    zt = _zone_response_table(run, checks, standard, t)
    if zt:
        parts.append(f"<h3>{escape(t('ems_response_zones'))}</h3>" + zt)
    # expected coverage
    bf = sol.get("busy_fraction") or {}
    pop = cov.get("population")
    exp = cov.get("expected_covered")
    parts.append(
        f"<h3>{escape(t('ems_expected'))}</h3>"
        + kv_table(
            [
                (
                    t("busy_fraction"),
                    f"{num(bf.get('q'), 4)} <span class='note'>{escape(str(bf.get('derived', '')))}</span>",
                ),
                (
                    t("expected_covered"),
                    f"{num(exp)} / {num(pop)} ({pct(None if not pop or exp is None else exp / pop)})",
                ),
                (t("backup_covered"), num(cov.get("backup_covered"))),
                (t("objective_meaning"), escape(str(sol.get("objective_meaning", "")))),
            ]
        )
    )
    return "".join(parts)


def _zone_response_table(
    run: RunData, checks: list[NormCheck], standard: dict[str, float], t: Labels
) -> str:
    zones = run.zones
    if zones is None or len(zones) == 0:
        return ""
    by = {(c.norm, c.zone): c for c in checks if c.scope == "zone"}
    head = [t("zone"), "name", t("population"), t("within_standard"), t("expected_share")]
    head += [f"{t('mean_response')} {c} (&lt; {v:g} min)" for c, v in standard.items()]
    head += [t("worst_response"), t("stations"), t("ambulances"), t("negative_pressure")]
    body = []
    for _, z in zones.iterrows():
        zid = str(z["zone_id"])
        row = [
            (escape(zid), ""),
            (escape(str(z.get("name", ""))), ""),
            (num(z.get("population")), "num"),
            (pct(z.get("covered_share")), "num"),
            (pct(z.get("expected_share")), "num"),
        ]
        for c in standard:
            chk = by.get((f"ems.mean_response.{c}", zid))
            if chk is None:
                row.append(("-", "num info"))
            else:
                cls = "met" if chk.met else "missed"
                row.append((escape(fmt_value(chk.achieved, chk.unit)), f"num {cls}"))
        row.append((num(z.get("worst_response_min"), 2), "num"))
        st = by.get(("ems.stations_per_zone", zid))
        if st is None:
            row.append((num(z.get("stations")), "num"))
        else:
            row.append(
                (
                    f"{num(z.get('stations'))} <span class='note'>≥ {num(st.required)}</span>",
                    f"num {'met' if st.met else 'missed'}",
                )
            )
        row.append((num(z.get("ambulances")), "num"))
        row.append((num(z.get("negative_pressure")), "num"))
        body.append(row)
    # header cells are escaped by table_html: undo the &lt; written above for it
    head = [h.replace("&lt;", "<") for h in head]
    return '<div class="scroll">' + table_html(head, body, cls="ems-zones") + "</div>"
