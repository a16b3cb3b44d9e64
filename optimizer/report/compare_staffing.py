"""``compare`` of two staffing runs: posts per facility (编制 quotas) or months of presence per
host and specialty (下沉 rotations), side by side with the change.

Staffing runs have no sites or demand tables; their norms (compliance tables) are compared by
the common norms table. The figures are read back from each run's own CSV (``posts.csv``,
``host_coverage.csv``), so the comparison never depends on solver objects.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from ..atomic import csv_encoding_of
from .format import num
from .i18n import Labels, add_labels
from .page import table_html
from .rundata import RunData

__all__ = ["STAFFING_TABLES", "staffing_diff", "staffing_diff_html"]

STAFFING_TABLES = {
    "staffing_quota": ("posts.csv", ["facility_id"], "posts_total", "posts_diff.csv"),
    "sent_down": (
        "host_coverage.csv",
        ["host_id", "specialty"],
        "months_present",
        "host_coverage_diff.csv",
    ),
}
"""kind -> (table, key columns, compared column, diff file)."""

add_labels(
    {
        "staff_diff_posts": {"zh": "各机构岗位变化", "en": "Posts per facility"},
        "staff_diff_hosts": {"zh": "各驻点专科在岗月数变化", "en": "Months present per host"},
        "staff_changed": {"zh": "有变化的行", "en": "rows that change"},
        "posts_total": {"zh": "岗位数", "en": "Posts"},
        "months_present": {"zh": "在岗月数", "en": "Months present"},
        "specialty": {"zh": "专科", "en": "Specialty"},
    }
)


def _read(run: RunData, name: str) -> pd.DataFrame | None:
    path = run.folder / name
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=csv_encoding_of(path))


def staffing_diff(a: RunData, b: RunData, kind: str) -> pd.DataFrame | None:
    """Rows of both runs' staffing table keyed by facility (or host and specialty): the
    compared figure in A and B and B - A; None when either run lacks the table."""
    if kind not in STAFFING_TABLES:
        return None
    table, keys, col, _ = STAFFING_TABLES[kind]
    fa, fb = _read(a, table), _read(b, table)
    if fa is None or fb is None or col not in fa or col not in fb:
        return None
    names = [c for c in ("name", "host_name", "type", "zone") if c in fa or c in fb]
    left = fa[keys + [c for c in names if c in fa] + [col]].rename(columns={col: f"{col}_a"})
    right = fb[keys + [c for c in names if c in fb] + [col]].rename(columns={col: f"{col}_b"})
    m = left.merge(right, on=keys, how="outer", suffixes=("", "_b_info"))
    for c in names:  # a name from B where A lacks the row
        if f"{c}_b_info" in m:
            m[c] = m[c].where(m[c].notna() & (m[c] != ""), m[f"{c}_b_info"])
            m = m.drop(columns=f"{c}_b_info")
    va = pd.to_numeric(m[f"{col}_a"], errors="coerce")
    vb = pd.to_numeric(m[f"{col}_b"], errors="coerce")
    m[f"{col}_a"], m[f"{col}_b"] = va, vb
    m["change"] = vb.fillna(0) - va.fillna(0)
    return (
        m.fillna(dict.fromkeys(names, "")).sort_values(keys, kind="stable").reset_index(drop=True)
    )


def staffing_diff_html(diff: pd.DataFrame, kind: str, t: Labels) -> str:
    """The rows that change (all rows when fewer than 40), changed rows first."""
    _, keys, col, _ = STAFFING_TABLES[kind]
    title = t("staff_diff_posts" if kind == "staffing_quota" else "staff_diff_hosts")
    changed = diff[diff["change"] != 0]
    shown = diff if len(diff) <= 40 else changed
    label_cols = [c for c in ("name", "host_name") if c in diff]
    head = [
        t("name") if label_cols else t("site"),
        *([t("specialty")] if "specialty" in keys else []),
    ]
    head += [f"{t(col)} A", f"{t(col)} B", t("delta")]
    body = []
    for _, r in shown.iterrows():
        ident = " ".join(str(r[k]) for k in keys if k != "specialty")
        label = str(r[label_cols[0]]) if label_cols else ""
        row: list[tuple[str, str]] = [(escape(f"{label} ({ident})" if label else ident), "")]
        if "specialty" in keys:
            row.append((escape(str(r["specialty"])), ""))
        d: Any = r["change"]
        row += [
            (num(r[f"{col}_a"]), "num"),
            (num(r[f"{col}_b"]), "num"),
            (f"{d:+,.0f}" if d else "0", f"num {'pos' if d > 0 else 'neg' if d < 0 else ''}"),
        ]
        body.append(row)
    note = f'<p class="note">{len(changed):,} {escape(t("staff_changed"))}</p>'
    return (
        f"<h2>{escape(title)}</h2>"
        + note
        + '<div class="scroll">'
        + table_html(head, body)
        + "</div>"
    )
