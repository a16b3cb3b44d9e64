"""Cells of the comparison page: values, changes, requirements and met / missed, formatted."""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np
import pandas as pd

from .format import num, pct, run_kind
from .i18n import Labels
from .norms import fmt_value

__all__ = [
    "delta",
    "fmt_total",
    "met_cells",
    "nan_none",
    "objectives_comparable",
    "required_text",
    "total_label",
]


def objectives_comparable(sa: dict[str, Any], sb: dict[str, Any]) -> bool:
    """Same model kind, objective and sense: only then is B's objective minus A's meaningful."""
    ma, mb = sa.get("model") or {}, sb.get("model") or {}
    return (
        run_kind(sa) == run_kind(sb)
        and ma.get("objective") == mb.get("objective")
        and sa.get("objective_sense") == sb.get("objective_sense")
    )


def fmt_total(v: Any, kind: str, t: Labels | None = None) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    if kind == "status" and t is not None:
        return escape(t.text(str(v)))
    if kind == "pct":
        return pct(v)
    if kind == "num":
        return num(v)
    return escape(str(v))


def delta(a: Any, b: Any, kind: str, t: Labels | None = None) -> tuple[str, str]:
    if kind not in ("num", "pct") or a is None or b is None:
        return "", ""
    try:
        d = float(b) - float(a)
    except (TypeError, ValueError):
        return "", ""
    if abs(d) < 1e-12:
        return "0", ""
    points = t("pct_points") if t is not None else "pt"
    text = (
        f"{100 * d:+.2f} {points}"
        if kind == "pct"
        else f"{d:+,.6g}"
        if abs(d) < 1e4
        else f"{d:+,.0f}"
    )
    return text, "pos" if d > 0 else "neg"


def total_label(key: str, t: Labels) -> str:
    if ":" in key:
        head, tail = key.split(":", 1)
        return f"{t(head)}: {tail}"
    return t(key) if not key.startswith("cost") else t("cost") + key[4:].replace(" ()", "")


def required_text(r: pd.Series) -> str:
    """The norm's requirement; 'A / B' when the two plans were held to different values."""
    ra, rb = nan_none(r["required_a"]), nan_none(r["required_b"])
    unit = str(r["unit"])
    if ra is not None and rb is not None and ra != rb:
        return f"{fmt_value(ra, unit)} / {fmt_value(rb, unit)}"
    return fmt_value(ra if ra is not None else rb, unit)


def nan_none(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else v


def met_cells(r: pd.Series, side: str, t: Labels) -> list[tuple[str, str]]:
    met = r[f"met_{side}"]
    ach = nan_none(r[f"achieved_{side}"])
    if pd.isna(met) and ach is None:
        return [("-", "info"), ("", "")]
    cls = "info" if pd.isna(met) else ("met" if met == 1 else "missed")
    word = t("no_target") if pd.isna(met) else (t("met") if met == 1 else t("missed"))
    return [(escape(t.text(fmt_value(ach, str(r["unit"])))), f"num {cls}"), (escape(word), cls)]
