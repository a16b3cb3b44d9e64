"""frontier.png in the run's language: Chinese labels with a CJK font, English without one (and a
note in frontier.html), readable axis numbers, the whole legend, no "Glyph missing" warning."""

from __future__ import annotations

import re
import warnings

import pandas as pd
import pytest

from optimizer.report import frontier_chart as fc
from optimizer.report.frontier import render_frontier


def _frontier(shares: bool = True) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "point": [0, 1, 2, 3],
            "value": [5e6, 1e7, 2e7, 3e7],
            "status": ["optimal", "optimal", "feasible", "infeasible"],
            "objective": [29_792_000.0, 31_000_000.0, 32_000_000.0, float("nan")],
        }
    )
    if shares:
        frame["share_aed_4min_round_trip"] = [0.5, 0.6, 0.7, 0.7]
        frame["share_clinic_15min_walk"] = [0.8, 0.85, 0.9, 0.9]
    return frame


def test_axis_numbers():
    assert fc.axis_number(5e6, "en") == "5,000,000"
    assert fc.axis_number(29_792_000, "en") == "29,792,000"
    assert fc.axis_number(5e6, "zh") == "500万"
    assert fc.axis_number(29_792_000, "zh", 1000) == "2,979.2万"
    assert fc.axis_number(1500, "zh") == "1,500"
    assert fc.axis_number(2.5, "en", 0.5) == "2.5"
    assert fc.axis_number(-0.0, "en") == "0"


@pytest.mark.parametrize("shares", [True, False])
def test_zh_chart_is_chinese_with_readable_numbers(tmp_path, shares):
    if fc.cjk_font() is None:
        pytest.skip("no CJK font on this machine")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" would fail here
        texts = fc.chart_texts(_frontier(shares), "budget.total", "zh")
        fc.frontier_chart(_frontier(shares), "budget.total", tmp_path / "f.png", "zh")
    assert (tmp_path / "f.png").stat().st_size > 10_000
    assert "权衡曲线（每个点均精确求解）" in texts
    assert ("标准内居民比例（%）" in texts) == shares
    assert "无方案满足目标（已证明）" in texts and "时间上限：未证明最优" in texts
    if shares:  # the legend keeps the whole standard name
        assert "aed_4min_round_trip" in texts and "clinic_15min_walk" in texts
    assert "500万" in texts and "3,000万" in texts
    assert not [x for x in texts if re.search(r"\d(M|k|e[+-]\d)", x)], texts
    assert not [x for x in texts if re.search(r"Trade-off|residents|time limit", x)]


def test_zh_without_cjk_font_falls_back_to_english(tmp_path, monkeypatch):
    monkeypatch.setattr(fc, "cjk_font", lambda: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        texts = fc.chart_texts(_frontier(), "budget.total", "zh")
        fc.frontier_chart(_frontier(), "budget.total", tmp_path / "f.png", "zh")
    assert "Trade-off frontier (every point solved exactly)" in texts
    assert "5,000,000" in texts and "30,000,000" in texts
    assert not [x for x in texts if re.search(r"[\u4e00-\u9fff]", x)], texts
    page = render_frontier(_frontier(), "budget.total", lang="zh")
    assert 'class="note no-cjk"' in page and "fonts-noto-cjk" in page
    monkeypatch.undo()
    if fc.cjk_font() is not None:
        assert "no-cjk" not in render_frontier(_frontier(), "budget.total", lang="zh")
