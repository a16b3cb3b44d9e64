"""The staffing section of report.html (编制 posts per facility, rotation Gantt, release limits).

Registered with :func:`optimizer.report.register_section`; it reads only the run folder
(``posts.csv`` of a quota run; ``gantt.png``, ``release.csv`` and ``solution.json`` of a
sent-down run), so ``python -m optimizer report RUN_DIR`` redraws it later. The rule and norm
tables (``norm_compliance`` / ``rule_compliance`` in ``solution.json``) are shown by the report's
own compliance section.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from ..atomic import csv_encoding_of
from ..report import Context, RunData, add_labels, register_section
from ..report.charts import LINE_COLOURS
from ..report.format import num
from ..report.i18n import Labels
from ..report.page import table_html

__all__ = ["staffing_section"]

add_labels(
    {
        "staffing": {"zh": "人员编制与下沉", "en": "Staffing"},
        "posts_per_facility": {
            "zh": "各机构编制与标准",
            "en": "Posts per facility against the norms",
        },
        "facility": {"zh": "机构", "en": "Facility"},
        "type": {"zh": "类型", "en": "Type"},
        "population": {"zh": "服务人口", "en": "Population"},
        "norm_range": {"zh": "标准范围", "en": "Norm range"},
        "posts": {"zh": "编制", "en": "Posts"},
        "per_mille": {"zh": "每千人", "en": "Per mille"},
        "current": {"zh": "现有", "en": "Current"},
        "change": {"zh": "变化", "en": "Change"},
        "need": {"zh": "需求", "en": "Need"},
        "rotation_gantt": {"zh": "下沉轮转日历", "en": "Rotation calendar (Gantt chart)"},
        "release": {"zh": "派出医院放人限额", "en": "Release compliance per hospital department"},
        "hospital": {"zh": "医院", "en": "Hospital"},
        "specialty": {"zh": "专科", "en": "Specialty"},
        "dept_staff": {"zh": "科室人数", "en": "Department staff"},
        "max_away_allowed": {"zh": "最多同时外派", "en": "Most away allowed"},
        "max_away": {"zh": "实际最多外派", "en": "Most away"},
        "peak_month": {"zh": "高峰月份", "en": "Peak month"},
        "stints": {"zh": "下沉人次", "en": "Stints"},
        "hosts_lacking": {"zh": "仍缺专科的派驻点", "en": "Hosts still lacking a specialty"},
        "unmet_months": {"zh": "缺口(人月)", "en": "Unmet doctor-months"},
        "reserved_hires": {
            "zh": "县级牵头医院基层定向招聘(新招聘人员的5%-10%,基层服务≥2年)",
            "en": "Lead hospitals' new hires reserved for grassroots posts (5-10%, >= 2 years)",
        },
        "new_hires": {"zh": "新招聘人数", "en": "New hires"},
        "reserved_band": {"zh": "应预留范围", "en": "Band"},
        "reserved": {"zh": "预留人数", "en": "Reserved"},
        "to_posts": {"zh": "派往岗位", "en": "To posts"},
        # norm ids of the quota case's reserved-hires rows
        "norm_reserved_hires.share": {
            "zh": "县级牵头医院新招聘人员基层预留比例",
            "en": "Lead hospital's new hires reserved for grassroots posts",
        },
        "norm_reserved_hires.service_years": {
            "zh": "预留人员基层服务年限",
            "en": "Years the reserved hires serve at the grassroots post",
        },
    }
)


def _read(run: RunData, name: str) -> pd.DataFrame | None:
    path = run.folder / name
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=csv_encoding_of(path))


def _f(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _posts_html(posts: pd.DataFrame, ctx: Context) -> str:
    t = ctx.t
    head = [
        t("facility"),
        t("type"),
        t("population"),
        t("norm_range"),
        t("posts"),
        t("per_mille"),
        t("current"),
        t("change"),
        t("need"),
    ]
    need_cols = [c for c in posts.columns if c.startswith("need_")]
    body = []
    for row in posts.to_dict("records"):
        total, lo, hi = _f(row["posts_total"]), _f(row["min_posts"]), _f(row["max_posts"])
        inside = total is not None and (lo is None or total >= lo) and (hi is None or total <= hi)
        needs = [v for v in (_f(row[c]) for c in need_cols) if v is not None]
        name = str(row.get("name") or "")
        label = escape(str(row["facility_id"])) + (f" {escape(name)}" if name else "")
        body.append(
            [
                (label, ""),
                (escape(str(row["type"])), ""),
                (num(_f(row["population"])), "num"),
                (f"{num(lo)}–{num(hi)}", "num"),
                (num(total), "num " + ("met" if inside else "missed")),
                (escape(str(row["posts_per_mille"])), "num"),
                (num(_f(row["current_total"])), "num"),
                (num(_f(row["change"])), "num"),
                (num(sum(needs), 1) if needs else "-", "num"),
            ]
        )
    return f"<h3>{escape(t('posts_per_facility'))}</h3>" + table_html(head, body)


def _hires_html(run: RunData, ctx: Context) -> str:
    """Reserved hires per lead hospital: new hires, band, reserved, and the posts they fill."""
    block = run.solution.get("reserved_hires")
    if not isinstance(block, dict):
        return ""
    t = ctx.t
    hires = _read(run, "reserved_hires.csv")
    to: dict[str, list[str]] = {}
    if hires is not None:
        for r in hires.to_dict("records"):
            to.setdefault(str(r["hospital"]), []).append(
                f"{r['facility_name'] or r['facility_id']} {r['category']} × {r['reserved_hires']}"
            )
    body = []
    for h in block.get("hospitals", []):
        reserved = h.get("reserved")
        ok = reserved is not None and h["min_reserved"] <= reserved <= h["max_reserved"]
        body.append(
            [
                (escape(str(h["hospital"])), ""),
                (num(h["new_hires"]), "num"),
                (f"{num(h['min_reserved'])}–{num(h['max_reserved'])}", "num"),
                (
                    num(reserved) if reserved is not None else "-",
                    "num " + ("met" if ok else "missed"),
                ),
                (escape("; ".join(to.get(str(h["hospital"]), []))), ""),
            ]
        )
    head = [t("hospital"), t("new_hires"), t("reserved_band"), t("reserved"), t("to_posts")]
    return f"<h3>{escape(t('reserved_hires'))}</h3>" + table_html(head, body)


def _rotation_html(run: RunData, ctx: Context) -> str:
    t = ctx.t
    parts = []
    cal = _read(run, "calendar.csv")
    if cal is not None and len(cal):
        parts.append(f"<h3>{escape(t('rotation_gantt'))}</h3>" + gantt_html(cal, t))
    rel = _read(run, "release.csv")
    if rel is not None:
        head = [
            t("hospital"),
            t("specialty"),
            t("dept_staff"),
            t("max_away_allowed"),
            t("max_away"),
            t("peak_month"),
            t("stints"),
            t("result"),
        ]
        body = [
            [
                (escape(r["hospital"]), ""),
                (escape(r["specialty"]), ""),
                (num(_f(r["department_staff"])), "num"),
                (num(_f(r["max_away_allowed"])), "num"),
                (num(_f(r["max_away"])), "num"),
                (escape(r["peak_month"]), ""),
                (num(_f(r["stints"])), "num"),
                (
                    (escape(t("met")), "met")
                    if r["compliant"] == "1"
                    else (escape(t("missed")), "missed")
                ),
            ]
            for _, r in rel.iterrows()
        ]
        parts.append(f"<h3>{escape(t('release'))}</h3>" + table_html(head, body))
    lacking = run.solution.get("hosts_lacking") or []
    if lacking:
        head = [t("facility"), t("specialty"), t("unmet_months")]
        body = [
            [
                (escape(f"{x.get('host_id', '')} {x.get('host_name', '')}".strip()), ""),
                (escape(str(x.get("specialty", ""))), ""),
                (num(x.get("unmet_doctor_months"), 1), "num"),
            ]
            for x in lacking[:50]
        ]
        more = f'<p class="note">… {len(lacking) - 50:,}</p>' if len(lacking) > 50 else ""
        parts.append(f"<h3>{escape(t('hosts_lacking'))}</h3>" + table_html(head, body) + more)
    return "".join(parts)


def _month_labels(cal: pd.DataFrame) -> list[str]:
    """``YYYY-MM`` of months 1..N of the plan (from the stints' start month and index)."""
    first = cal.iloc[0]
    y, m = (int(p) for p in str(first["start_month"]).split("-")[:2])
    base = y * 12 + (m - 1) - (int(first["start"]) - 1)  # month index 1 -> base
    n = int((cal["start"].astype(int) + cal["months"].astype(int) - 1).max())
    return [f"{(base + k) // 12}-{(base + k) % 12 + 1:02d}" for k in range(n)]


def gantt_html(cal: pd.DataFrame, t: Labels) -> str:
    """The rotation calendar as an HTML table: months across the top (sticky), one lane per
    host and specialty (overlapping stints on extra lanes), each stint a coloured cell spanning
    its months and naming its doctor; hosts by name."""
    months = _month_labels(cal)
    specs = sorted(set(cal["specialty"]))
    colour = {s: LINE_COLOURS[k % len(LINE_COLOURS)] for k, s in enumerate(specs)}
    cal = cal.assign(
        lane_start=cal["start"].astype(int),
        lane_end=cal["start"].astype(int) + cal["months"].astype(int) - 1,
        lane_host=[
            n or i
            for n, i in zip(cal.get("host_name", cal["host_id"]), cal["host_id"], strict=True)
        ],
    ).sort_values(["lane_host", "specialty", "lane_start"], kind="stable")
    head = "".join(f"<th>{escape(m[2:])}</th>" for m in months)
    rows = []
    for (host, spec), grp in cal.groupby(["lane_host", "specialty"], sort=False):
        lanes: list[list[Any]] = []  # interval partitioning: a stint on the first free lane
        for r in grp.itertuples():
            lane = next((ln for ln in lanes if ln[-1].lane_end < r.lane_start), None)
            if lane is None:
                lanes.append([r])
            else:
                lane.append(r)
        for k, lane in enumerate(lanes):
            cells, month = [], 1
            for r in lane:
                cells += ["<td></td>"] * (r.lane_start - month)
                cells.append(
                    f'<td class="stint" colspan="{r.lane_end - r.lane_start + 1}" '
                    f'style="background:{colour[spec]}" title="{escape(str(r.doctor_id))} · '
                    f"{escape(str(r.hospital))} · {escape(str(r.start_month))}–"
                    f'{escape(str(r.end_month))}">{escape(str(r.doctor_id))}</td>'
                )
                month = r.lane_end + 1
            cells += ["<td></td>"] * (len(months) - month + 1)
            label = (
                f"<th>{escape(str(host))}</th><td>{escape(str(spec))}</td>"
                if k == 0
                else "<th></th><td></td>"
            )
            rows.append(f"<tr>{label}{''.join(cells)}</tr>")
    legend = " ".join(
        f'<span><span class="swatch" style="background:{colour[s]}"></span>{escape(s)}</span>'
        for s in specs
    )
    return (
        f'<p class="legend note">{legend}</p><div class="gantt-wrap"><table class="gantt">'
        f"<thead><tr><th>{escape(t('facility'))}</th><th>{escape(t('specialty'))}</th>{head}"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


@register_section("staffing", order=38, title="staffing")
def staffing_section(run: RunData, ctx: Context) -> str | None:
    """Posts per facility (quota runs) or the rotation calendar and release limits (sent-down)."""
    kind = str(run.solution.get("case", {}).get("kind", ""))
    posts = _read(run, "posts.csv")
    if posts is not None and "posts_total" in posts:
        return _posts_html(posts, ctx) + _hires_html(run, ctx)
    if kind == "sent_down" or (run.folder / "calendar.csv").is_file():
        return _rotation_html(run, ctx) or None
    return None
