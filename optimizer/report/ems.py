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

from .ems_checks import class_limits, classes_of, ems_norms, fleet_of
from .format import kv_table, num, pct, result_cell
from .i18n import Labels, add_labels
from .norms import NormCheck, compare_values, fmt_value, op_symbol
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


def _check_row(c: NormCheck, t: Labels) -> list[tuple[str, str]]:
    return [
        (escape(t.norm(c.norm, c.label)), ""),
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
    t = ctx.t
    checks = ctx.norms(run)
    standard = class_limits(run.solution.get("model", {}).get("response_min"), classes_of(run))
    parts = [_fleet_part(run, checks, t), _stations_part(run, t), _response_part(run, standard, t)]
    zt = _zone_response_table(run, checks, standard, t)
    if zt:
        parts.append(f"<h3>{escape(t('ems_response_zones'))}</h3>" + zt)
    parts.append(_expected_part(run, t))
    return "".join(parts)


def _fleet_part(run: RunData, checks: list[NormCheck], t: Labels) -> str:
    """The fleet (ambulances, negative pressure, limits, existing) and its norm checks."""
    fl = fleet_of(run)
    fleet_rows = [
        _check_row(c, t)
        for c in checks
        if c.norm.startswith(("ems.fleet", "ems.negative", "ems.max_new"))
    ]
    fleet_cfg = run.solution.get("model", {}).get("fleet", {}) or {}
    info = [
        (t("ambulances"), f"{num(fl.get('ambulances'))}"),
        (
            t("negative_pressure"),
            f"{num(fl.get('negative_pressure'))} ({pct(fl.get('negative_pressure_share'))})",
        ),
    ]
    if fleet_cfg.get("fleet_size") is not None:
        info.append((t("fleet_size"), num(fleet_cfg.get("fleet_size"))))
    info.append((t("max_per_station"), num(fleet_cfg.get("max_per_station"))))
    ex = fl.get("existing") or {}
    if ex.get("stations"):
        text = (
            f"{num(ex.get('stations'))} {t('stations')}, {num(ex.get('ambulances'))} "
            f"({num(ex.get('negative_pressure'))} {t('negative_pressure')})"
        )
        if ex.get("assumed"):
            text += f" <b>{escape(t('existing_fleet_assumed'))}</b>"
        info.append((t("existing_fleet"), text))
    head = [t("norm"), t("required"), t("achieved"), t("result"), t("source")]
    norms = table_html(head, fleet_rows, cls="ems-fleet") if fleet_rows else ""
    return f"<h3>{escape(t('ems_fleet'))}</h3>" + kv_table(info) + norms


def _stations_part(run: RunData, t: Labels) -> str:
    """The open stations with their ambulances, cost and nearest residents."""
    s = run.sites
    if s is None or "open" not in s:
        return ""
    sub = s[s["open"] == 1]
    body = [
        [
            (escape(run.shown("sites", r["site_id"])), ""),
            (escape(run.shown("zones", r.get("zone", ""))), ""),
            (escape(t(str(r.get("status", "")))), ""),
            (num(r.get("ambulances")), "num"),
            (num(r.get("negative_pressure")), "num"),
            (num(r.get("cost")), "num"),
            (num(r.get("residents_nearest")), "num"),
        ]
        for _, r in sub.iterrows()
    ]
    head = [t("site"), t("zone"), t("status_site"), t("ambulances"), t("negative_pressure")]
    head += [t("cost"), t("residents_nearest")]
    return (
        f"<h3>{escape(t('ems_stations'))} ({len(sub)})</h3>"
        + '<div class="scroll">'
        + table_html(head, body, cls="ems-stations")
        + "</div>"
    )


def _response_part(run: RunData, standard: dict[str, float], t: Labels) -> str:
    """Response-time compliance per demand class: share within, mean, worst, radius."""
    sol = run.solution
    cov = (run.coverage.get("ems") or {}) if run.coverage else {}
    resp = sol.get("response") or {}
    radius = sol.get("radius") or {}
    by_class = cov.get("by_class") or {}
    body = []
    for c in classes_of(run):
        r = (resp.get(c) if c != "all" else resp.get("overall")) or {}
        mean = r.get("mean_min")
        limit = standard.get(c)
        met = None if mean is None or limit is None else compare_values(float(mean), limit, "<")
        rad = radius.get(c) or {}
        body.append(
            [
                (escape(t("all_classes") if c == "all" else t.text(c)), ""),
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
    model = sol.get("model", {})
    head = [t("demand_class"), t("response_standard"), t("within_standard")]
    head += [t("mean_response") + " (min)", t("worst_response") + " (min)", t("result")]
    head += [t("within_radius")]
    return (
        f"<h3>{escape(t('ems_response'))}</h3>"
        + f'<p class="note">{escape(t("dispatch_min"))}: {num(model.get("dispatch_min"))} min. '
        + escape(str(model.get("source") or ""))
        + "</p>"
        + table_html(head, body, cls="ems-classes")
    )


def _expected_part(run: RunData, t: Labels) -> str:
    """Expected coverage with busy ambulances (busy fraction q, expected and backup covered)."""
    sol = run.solution
    cov = (run.coverage.get("ems") or {}) if run.coverage else {}
    bf = sol.get("busy_fraction") or {}
    pop = cov.get("population")
    exp = cov.get("expected_covered")
    return f"<h3>{escape(t('ems_expected'))}</h3>" + kv_table(
        [
            (
                t("busy_fraction"),
                f"{num(bf.get('q'), 4)} <span class='note'>{escape(t.text(bf.get('derived', '')))}</span>",
            ),
            (
                t("expected_covered"),
                f"{num(exp)} / {num(pop)} ({pct(None if not pop or exp is None else exp / pop)})",
            ),
            (t("backup_covered"), num(cov.get("backup_covered"))),
            (t("objective_meaning"), escape(t.text(sol.get("objective_meaning", "")))),
        ]
    )


def _zone_response_table(
    run: RunData, checks: list[NormCheck], standard: dict[str, float], t: Labels
) -> str:
    zones = run.zones
    if zones is None or len(zones) == 0:
        return ""
    by = {(c.norm, c.zone): c for c in checks if c.scope == "zone"}
    head = [t("zone"), t("name"), t("population"), t("within_standard"), t("expected_share")]
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
