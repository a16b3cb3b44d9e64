"""The staffing section of report.html (编制 posts per facility, rotation Gantt, release limits).

Registered with :func:`optimizer.report.register_section`; it reads only the run folder
(``posts.csv`` of a quota run; ``gantt.png``, ``release.csv`` and ``solution.json`` of a
sent-down run), so ``python -m optimizer report RUN_DIR`` redraws it later. The rule and norm
tables (``norm_compliance`` / ``rule_compliance`` in ``solution.json``) are shown by the report's
own compliance section.
"""

from __future__ import annotations

import base64
from html import escape

import pandas as pd

from ..report import Context, RunData, add_labels, register_section
from ..report.format import num
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
    }
)


def _read(run: RunData, name: str) -> pd.DataFrame | None:
    path = run.folder / name
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False)


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


def _rotation_html(run: RunData, ctx: Context) -> str:
    t = ctx.t
    parts = []
    png = run.folder / "gantt.png"
    if png.is_file():
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        parts.append(
            f"<h3>{escape(t('rotation_gantt'))}</h3>"
            f'<img class="gantt" style="max-width:100%" alt="{escape(t("rotation_gantt"))}" '
            f'src="data:image/png;base64,{data}">'
        )
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


@register_section("staffing", order=45, title="staffing")
def staffing_section(run: RunData, ctx: Context) -> str | None:
    """Posts per facility (quota runs) or the rotation calendar and release limits (sent-down)."""
    kind = str(run.solution.get("case", {}).get("kind", ""))
    posts = _read(run, "posts.csv")
    if posts is not None and "posts_total" in posts:
        return _posts_html(posts, ctx)
    if kind == "sent_down" or (run.folder / "calendar.csv").is_file():
        return _rotation_html(run, ctx) or None
    return None
