"""The report's built-in sections, in the registry (:mod:`.registry`) so model families can add
their own.

A section is a function ``(run, ctx) -> html | None`` registered with :func:`register_section`
under a key, an order and a title label. It reads only what it needs from the run folder
(``run.solution`` keys, tables, layers) and returns ``None`` when the run has nothing for it, so
a p-median run (travel-time statistics), an ambulance run (fleet norms) or a staffing run (编制
quotas) adds a section in its own module without touching this one::

    from optimizer.report import register_section

    @register_section("travel_stats", order=45, title="travel_stats")
    def travel_stats(run, ctx):
        stats = run.solution.get("travel_time_stats")
        return None if stats is None else "<table>...</table>"
"""

from __future__ import annotations

from html import escape
from typing import Any

from .charts import Bar, hbar_chart
from .format import (
    crs_note,
    kv_table,
    model_text,
    num,
    pct,
    result_cell,
    run_kind,
    status_badge,
    threshold_text,
)
from .i18n import add_labels
from .mapview import legend_html, map_html, overview_svg
from .page import table_html
from .registry import Context, register_section
from .run_map import report_map_spec
from .rundata import RunData


# ---------------------------------------------------------------------------------------------
# built-in sections
# ---------------------------------------------------------------------------------------------
@register_section("summary", order=10, title="summary")
def summary_section(run: RunData, ctx: Context) -> str:
    t, sol = ctx.t, run.solution
    case = sol.get("case", {})
    demand = sol.get("demand", {})
    rows = [
        (t("case"), escape(str(case.get("name", "")))),
        (t("model"), escape(model_text(sol, t))),
        (t("status"), status_badge(str(sol.get("status")), t.text(sol.get("status_text", "")))),
    ]
    if demand:
        rows.append(
            (
                t("demand_points"),
                f"{num(demand.get('points'))} ({t('residents')} "
                f"{num(demand.get('residents', demand.get('total_weight')))}"
                + (
                    f"; {t('footfall')} {num(demand.get('footfall_weight'))})"
                    if demand.get("footfall_weight")
                    else ")"
                ),
            )
        )
        if demand.get("weight_note"):
            rows.append((t("weight_note"), escape(str(demand["weight_note"]))))
    cost = sol.get("cost")
    if cost:
        text = f"{num(cost.get('total'))} {escape(str(cost.get('unit', '')))}"
        if cost.get("budget") is not None:
            text += f" / {t('budget')} {num(cost['budget'])}"
        rows.append((t("cost"), text))
    parts = [kv_table(rows)]
    if case.get("description"):
        parts.insert(0, f'<p class="sub">{escape(str(case["description"]))}</p>')
    counts = sol.get("counts") or {}
    if counts:
        head = [t("facility_type"), t("open"), t("new"), t("kept"), t("closed"), t("existing")]
        body = []
        for ty, c in sorted(counts.items()):
            kept = int(c.get("open", 0)) - int(c.get("new", 0))
            body.append(
                [
                    (escape(ty), ""),
                    (num(c.get("open")), "num"),
                    (num(c.get("new")), "num"),
                    (num(kept), "num"),
                    (num(c.get("closed")), "num"),
                    (num(c.get("existing")), "num"),
                ]
            )
        parts.append(table_html(head, body))
    cov = run.coverage
    if cov:
        head = [
            t("standard"),
            t("threshold"),
            t("share"),
            t("covered"),
            t("target"),
            t("result"),
            t("source"),
        ]
        body = []
        for name, c in cov.items():
            body.append(
                [
                    (escape(name), ""),
                    (escape(threshold_text(c)), ""),
                    (pct(c.get("share")), "num"),
                    (
                        f"{num(c.get('covered'))} / {num(c.get('population'))}"
                        + (
                            f" ({t('footfall')} {num(c.get('footfall_covered'))} / "
                            f"{num(c.get('footfall'))})"
                            if c.get("footfall")
                            else ""
                        ),
                        "num",
                    ),
                    (pct(c.get("min_share")) if c.get("min_share") is not None else "-", "num"),
                    result_cell(c.get("met"), t),
                    (escape(str(c.get("source") or "")), "note"),
                ]
            )
        parts.append(f"<h3>{escape(t('coverage'))}</h3>" + table_html(head, body))
    return "".join(parts)


def roads_check_text(check: dict[str, Any], t: Any) -> str:
    """One line per travel-time table: its sample re-routed by the independent router."""
    lines = []
    for name, b in check.items():
        if not isinstance(b, dict) or b.get("status") != "checked":
            lines.append(escape(t("roads_not_checked").format(table=name)))
            continue
        w = b.get("worst_pair") or {}
        ok = bool(b.get("passed"))
        text = t("roads_check_row").format(
            table=name,
            pairs=num(b.get("pairs_checked")),
            random=num(b.get("random_pairs")),
            near=num(b.get("near_threshold_checked")),
            found=num(b.get("near_threshold_found")),
            max=f"{b.get('max_deviation'):.4f}",
            mean=f"{b.get('mean_deviation'):.4f}",
            unit=b.get("unit"),
            tol=b.get("tolerance"),
            worst=f"{w.get('demand')} - {w.get('site')}",
        )
        lines.append(f'<span class="{"met" if ok else "missed"}">{escape(text)}</span>')
    return "<br>".join(lines)


@register_section("certificate", order=20, title="certificate")
def certificate_section(run: RunData, ctx: Context) -> str:
    t, sol = ctx.t, run.solution
    solver = sol.get("solver", {})
    gap = sol.get("gap")
    rows = [
        (t("status"), status_badge(str(sol.get("status")), t.text(sol.get("status_text", "")))),
        (
            t("objective"),
            f"{num(sol.get('objective'), 6)} ({escape(t('sense_' + str(sol.get('objective_sense', ''))))})",
        ),
        (t("objective_meaning"), escape(t.text(sol.get("objective_meaning", "")))),
        (t("best_bound"), num(sol.get("best_bound"), 6)),
        (t("gap"), "-" if gap is None else f"{100 * float(gap):.4f}%"),
        (
            t("solver"),
            escape(f"{solver.get('backend', '')} {solver.get('version', '')}".strip())
            + (
                f' <span class="note">{escape(t.text(solver["message"]))}</span>'
                if solver.get("message")
                else ""
            ),
        ),
        (
            t("time_limit"),
            f"{num(solver.get('time_limit_s'))} s; "
            + escape(
                t("solver_params").format(
                    gap=solver.get("mip_rel_gap", "-"),
                    threads=solver.get("threads") or "-",
                    seed=solver.get("seed", "-"),
                )
            ),
        ),
        (
            t("checked"),
            f'<span class="{"met" if sol.get("checked_on_raw_data") else "missed"}">'
            f"{escape(t('yes') if sol.get('checked_on_raw_data') else t('no'))}</span>",
        ),
    ]
    roads = roads_check_text(sol.get("travel_times_check") or {}, t)
    if roads:
        rows.append((t("roads_checked"), roads))
    sec = sol.get("secondary")
    if isinstance(sec, dict):
        text = f"{escape(t.text(sec.get('objective')))}: {escape(t.text(sec.get('status')))}"
        if "value" in sec:
            text += f", {num(sec.get('value'))} ({escape(t('gap'))} {pct(sec.get('gap'))})"
        rows.append((t("secondary"), text))
    out = kv_table(rows)
    if sol.get("status") == "feasible":
        out = f'<div class="warn">{escape(t("feasible_warning"))}</div>' + out
    diag = sol.get("diagnosis") or []
    if diag:
        out += (
            f"<h3>{escape(t('diagnosis'))}</h3><ul>"
            + "".join(f"<li>{escape(t.text(d))}</li>" for d in diag)
            + "</ul>"
        )
    return out


@register_section("map", order=30, title="map")
def map_section(run: RunData, ctx: Context) -> str | None:
    t = ctx.t
    spec = report_map_spec(run, t, ctx.basemap)
    if spec is None:
        if run_kind(run.solution) in ("staffing_quota", "sent_down"):
            return None  # staffing runs have no map: no empty section
        return f'<p class="note">{escape(t("no_map"))}</p>'
    ctx.cache["has_map"] = True
    ctx.cache["cluster"] = "cluster" in spec  # Leaflet.markercluster goes into the page
    hint = f'<p class="note screen-only">{escape(t("map_hint"))}{escape(ctx.basemap["label"])}</p>'
    approx = [
        f
        for f in (run.layers.get("zones") or {}).get("features", [])
        if (f.get("properties") or {}).get("approximate") == 1
    ]
    props = [f["properties"] for f in approx]
    how = sorted({str(p.get("geometry_source", "")) for p in props} - {""})
    note = (
        f'<p class="note">{escape(t("zones_approx"))} ({escape("; ".join(t.text(h) for h in how))}): '
        + escape(", ".join(str(p.get("name") or p.get("zone_id")) for p in props[:40]))
        + (" …" if len(props) > 40 else "")
        + "</p>"
        if approx
        else ""
    )
    static = f'<div class="print-only">{overview_svg(spec)}<p class="note">{escape(t("print_map_note"))}</p></div>'
    return hint + map_html(spec, "map-run", legend_html(spec, t)) + note + static


@register_section("charts", order=50, title="charts")
def charts_section(run: RunData, ctx: Context) -> str | None:
    from .sweep_curves import sweep_curves

    t, cov = ctx.t, run.coverage
    curves = sweep_curves(run, t)  # when the run is a point of a sweep
    if not cov:
        return curves
    bars = [Bar(n, c.get("share"), c.get("min_share"), c.get("met")) for n, c in cov.items()]
    parts = [hbar_chart(bars, title=t("chart_coverage"))]
    names = run.zone_names()
    full = []
    for name, c in cov.items():
        by_zone = c.get("by_zone") or {}
        if not by_zone:
            continue
        if all(zc.get("share") is not None and zc["share"] >= 1.0 for zc in by_zone.values()):
            full.append(name)
            continue
        items = sorted(by_zone.items())
        if len(items) > 40:
            items = sorted(items, key=lambda kv: (kv[1].get("share") or 0.0, kv[0]))[:40]
            title = f"{t('chart_zone_share')}: {name} ({t('lowest_zones')} 40)"
        else:
            title = f"{t('chart_zone_share')}: {name}"
        zbars = [
            Bar(names.get(z, z), zc.get("share"), zc.get("required"), zc.get("met"))
            for z, zc in items
        ]
        parts.append(hbar_chart(zbars, title=title))
    note = (
        f'<p class="note">{escape(t("all_zones_full"))}: {escape(", ".join(full))}</p>'
        if full
        else ""
    )
    return (
        '<div class="grid2">'
        + "".join(f"<div>{p}</div>" for p in parts)
        + "</div>"
        + note
        + (curves or "")
    )


@register_section("sites", order=60, title="sites")
def sites_section(run: RunData, ctx: Context) -> str | None:
    t = ctx.t
    s = run.sites
    if s is None or "status" not in s:
        return None
    parts = []
    for status, title in (("new", "new_sites"), ("closed", "closed_sites")):
        sub = s[s["status"] == status]
        if len(sub) == 0:
            continue
        head = [t("site"), t("facility_type"), t("zone"), t("cost"), t("residents_nearest")]
        body = [
            [
                (escape(run.shown("sites", r["site_id"])), ""),
                (escape(str(r["facility_type"])), ""),
                (escape(run.shown("zones", r.get("zone", ""))), ""),
                (num(r.get("cost")), "num"),
                (num(r.get("residents_nearest")), "num"),
            ]
            for _, r in sub.iterrows()
        ]
        parts.append(
            f"<h3>{escape(t(title))} ({len(sub)})</h3>"
            + '<div class="scroll">'
            + table_html(head, body)
            + "</div>"
        )
    return "".join(parts) or None


@register_section("travel_times", order=70, title="travel_times")
def travel_section(run: RunData, ctx: Context) -> str | None:
    t = ctx.t
    tt = run.solution.get("travel_times") or {}
    if not tt:
        return None
    head = [
        t("table"),
        t("network"),
        t("mode"),
        t("direction"),
        t("pairs"),
        t("snapped"),
        t("max_snap_m"),
        t("unreachable"),
    ]
    body = []
    for name, r in tt.items():
        d = r.get("demand") or {}
        s = r.get("sites") or {}
        body.append(
            [
                (escape(name), ""),
                (escape(str(r.get("network", r.get("source", "")))), ""),
                (escape(t.text(f"{r.get('mode', '')} {r.get('measure', '')}".strip())), ""),
                (escape(t.text(r.get("direction", ""))), ""),
                (num(r.get("pairs")), "num"),
                (f"{num(d.get('snapped'))} / {num(s.get('snapped'))}" if d else "-", "num"),
                (f"{num(d.get('max_snap_m'))} / {num(s.get('max_snap_m'))}" if d else "-", "num"),
                (num(len(r.get("unreachable_demand") or [])), "num"),
            ]
        )
    notes = [
        f'<p class="warn"><b>{escape(name)}</b>: {escape(estimate_text(r, t))}</p>'
        for name, r in tt.items()
        if r.get("source") == "estimate" or r.get("estimated")
    ]
    return table_html(head, body) + "".join(notes)


add_labels(
    {
        "estimate_all": {
            "zh": "出行时间为估算（无路网）",
            "en": "Travel times are ESTIMATED (no road network)",
        },
        "estimate_some": {
            "zh": "路网以外的点位出行时间为估算",
            "en": "Travel times ESTIMATED for points beyond the roads",
        },
        "estimate_how_time": {
            "zh": "直线距离 × 绕行系数 ÷ 速度",
            "en": "straight-line distance x circuity / speed",
        },
        "estimate_how_distance": {
            "zh": "直线距离 × 绕行系数",
            "en": "straight-line distance x circuity",
        },
        "estimate_error": {
            "zh": "与真实路网相比的误差（P10 至 P90）",
            "en": "error against real roads (P10 to P90)",
        },
        "urban": {"zh": "城镇", "en": "urban"},
        "rural": {"zh": "乡村", "en": "rural"},
        "calibrated_on": {"zh": "标定路网", "en": "calibrated on"},
    }
)


def estimate_text(r: dict[str, Any], t: Any) -> str:
    """The estimate flag of a travel-time table in the page language, with its error band."""
    info = r if r.get("source") == "estimate" else (r.get("estimated") or {})
    measure = info.get("measure", "time")
    key = "error" if measure == "time" else "distance_error"
    bands = "; ".join(
        f"{t(b['setting'])} {b[key + '_p10_pct']:+.0f}% ~ {b[key + '_p90_pct']:+.0f}% "
        f"({t('calibrated_on')} {b['calibrated_on']})"
        for b in info.get("error_band", [])
    )
    head = t("estimate_all") if r.get("source") == "estimate" else t("estimate_some")
    scope = info.get("scope", "")
    scope = f" ({scope})" if scope and scope != "every pair" else ""
    how = t("estimate_how_time" if measure == "time" else "estimate_how_distance")
    return f"{head}{scope}: {how}; {t('estimate_error')}: {bands}"


@register_section("notes", order=90, title="notes")
def notes_section(run: RunData, ctx: Context) -> str:
    t = ctx.t
    rows = []
    if run.layers_index:
        rows.append((t("layers_crs"), escape(crs_note(run.layers_index, t))))
    files = (run.manifest or {}).get("files") or []
    if files:
        rows.append((t("files"), escape(", ".join(files))))
    if run.solution.get("travel_times"):
        rows.append(
            (
                t("attribution"),
                escape(t("road_attribution")),
            )
        )
    rows.append(("Leaflet", escape(t("leaflet_licence"))))
    rows.append(("", escape(t("generated_offline"))))
    return kv_table(rows)
