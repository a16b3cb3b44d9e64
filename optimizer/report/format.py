"""Small HTML formatting helpers shared by the report pages: numbers, shares, thresholds, badges."""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from .i18n import Labels

__all__ = ["kv_table", "num", "pct", "result_cell", "status_badge", "threshold_text"]


def num(x: Any, nd: int = 2) -> str:
    if x is None or (isinstance(x, float) and pd.isna(x)):
        return "-"
    if isinstance(x, str):
        return escape(x)
    x = float(x)
    if abs(x) >= 1e4 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.{nd}f}"


def pct(x: Any) -> str:
    return "-" if x is None or (isinstance(x, float) and pd.isna(x)) else f"{100 * float(x):.2f}%"


def threshold_text(std: dict[str, Any]) -> str:
    thr = std.get("threshold", std.get("minutes", std.get("metres")))
    unit = std.get("unit") or ("min" if "minutes" in std else "m")
    if isinstance(thr, dict):
        return " / ".join(f"{v:,g} {unit} ({k})" for k, v in thr.items())
    return f"{float(thr):,g} {unit}" if thr is not None else "-"


def result_cell(met: bool | None, t: Labels) -> tuple[str, str]:
    if met is None:
        return escape(t("no_target")), "info"
    return (escape(t("met")), "met") if met else (escape(t("missed")), "missed")


def kv_table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def status_badge(status: str, text: str) -> str:
    cls = "optimal" if status == "optimal" else ("feasible" if status == "feasible" else "bad")
    return f'<span class="badge {cls}">{escape(text)}</span>'
