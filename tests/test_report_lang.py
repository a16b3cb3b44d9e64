"""Every report type in both languages: no English outside the run's own data, units and proper
names in a zh page; no raw configuration keys (``fleet_size``, ``zone_rule[0]``) in either.

The pages: a p-median and a p-center run (with names), an MCLP run (Andorra), a 编制 quota run,
compare of two runs of one kind, of two kinds, of two staffing runs, a sweep's frontier page;
the 120 and sent-down runs (15 s each) are in the slow set.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.cli import main

from .conftest import ROOT
from .test_outputs import _case
from .untranslated import data_words, raw_keys, untranslated


def _pages(run: Path, tmp: Path) -> dict[str, str]:
    """zh (written with the run) and en (``report --lang en``) pages of a run."""
    en = tmp / f"{run.name}-en.html"
    assert main(["report", str(run), "--lang", "en", "--out", str(en), "-q"]) == 0
    return {
        "zh": (run / "report.html").read_text(encoding="utf-8"),
        "en": en.read_text(encoding="utf-8"),
    }


def _check(pages: dict[str, str], words: set[str]) -> None:
    assert untranslated(pages["zh"], words) == []
    assert raw_keys(pages["zh"], words) == []
    assert raw_keys(pages["en"], words) == []


def _compare_pages(a: Path, b: Path, tmp: Path) -> dict[str, str]:
    out = {}
    for lang in ("zh", "en"):
        folder = tmp / f"cmp-{a.name}-{b.name}-{lang}"
        assert main(["compare", str(a), str(b), "--out", str(folder), "--lang", lang, "-q"]) == 0
        out[lang] = (folder / "compare.html").read_text(encoding="utf-8")
    return out


def _words(*runs: Path) -> set[str]:
    words: set[str] = set()
    for run in runs:
        words |= data_words(run) | {p.lower() for p in run.parts}
    return words


@pytest.fixture(scope="module")
def siting_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("lang")
    runs = {}
    for kind in ("p_median", "p_center"):
        folder = base / kind
        folder.mkdir()
        case = _case(folder, f"  kind: {kind}\n  p: 3")
        assert main(["run", str(case), "--out", str(folder / "out"), "-q"]) == 0
        runs[kind] = folder / "out"
    return runs


@pytest.mark.parametrize("kind", ["p_median", "p_center"])
def test_siting_reports(siting_runs, kind, tmp_path):
    run = siting_runs[kind]
    _check(_pages(run, tmp_path), _words(run))


def test_compare_of_two_kinds_says_so_and_subtracts_nothing(siting_runs, tmp_path):
    a, b = siting_runs["p_median"], siting_runs["p_center"]
    pages = _compare_pages(a, b, tmp_path)
    _check(pages, _words(a, b))
    assert "两个方案的模型不同" in pages["zh"] and "different model kinds" in pages["en"]
    # the objective row shows both values and no difference
    row = pages["en"].split("<td>Objective</td>", 1)[1].split("</tr>", 1)[0]
    assert row.count('class="num') == 3 and row.endswith('<td class="num "></td>')


def test_coverage_report_and_compare(andorra_runs, tmp_path):
    p_a, p_b = sorted(andorra_runs)[:2]
    a, b = andorra_runs[p_a][2], andorra_runs[p_b][2]
    _check(_pages(a, tmp_path), _words(a))
    _check(_compare_pages(a, b, tmp_path), _words(a, b))


@pytest.fixture(scope="module")
def quota_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("quota") / "run"
    assert main(["staff", str(ROOT / "configs" / "zhuji_quota.yaml"), "--out", str(out), "-q"]) == 0
    return out


def test_staffing_quota_report_and_compare(quota_run, tmp_path):
    _check(_pages(quota_run, tmp_path), _words(quota_run))
    pages = _compare_pages(quota_run, quota_run, tmp_path)
    _check(pages, _words(quota_run))
    assert "各机构岗位变化" in pages["zh"]
    folder = tmp_path / f"cmp-{quota_run.name}-{quota_run.name}-zh"
    assert (folder / "posts_diff.csv").is_file() and not (folder / "sites_diff.csv").exists()
    import openpyxl

    sheets = openpyxl.load_workbook(folder / "compare.xlsx", read_only=True).sheetnames
    assert sheets == ["说明", "岗位差异", "规范对比"]


def test_frontier_page(tmp_path):
    from .test_sweep import _write_case

    path, _ = _write_case(tmp_path)
    out = tmp_path / "sweep"
    args = ["sweep", str(path), "--param", "model.budget", "--values", "0:12:6"]
    assert main([*args, "--out", str(out), "--workers", "1", "-q"]) == 0
    html = (out / "frontier.html").read_text(encoding="utf-8")
    words = _words(out / "points" / "000") | {"model.budget"}
    assert untranslated(html, words) == [] and raw_keys(html, words) == []
    # frontier.png's texts (title, axes, legend, ticks) too, when a CJK font draws them
    import pandas as pd

    from optimizer.report.frontier_chart import chart_texts, cjk_font

    if cjk_font() is not None:
        texts = chart_texts(pd.read_csv(out / "frontier.csv"), "model.budget", "zh")
        page = "".join(f"<p>{x}</p>" for x in texts)
        assert untranslated(page, words) == [], texts


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "case"), [("run", "andorra_ems.yaml"), ("staff", "qingdao_sent_down.yaml")]
)
def test_ems_and_sent_down_reports(command, case, tmp_path):
    out = tmp_path / "run"
    assert main([command, str(ROOT / "configs" / case), "--out", str(out), "-q"]) == 0
    _check(_pages(out, tmp_path), _words(out))
    assert _headers_without_chinese(out / "results.xlsx") == []


def _headers_without_chinese(xlsx: Path) -> list[str]:
    import re

    import openpyxl

    wb = openpyxl.load_workbook(xlsx, read_only=True)
    bad = []
    for ws in wb.worksheets[1:]:  # the first sheet (说明) lists the CSV headers on purpose
        head = next(ws.iter_rows(values_only=True))
        bad += [f"{ws.title}:{h}" for h in head if not re.search(r"[\u4e00-\u9fff]", str(h))]
    return bad


def test_workbook_headers_are_chinese(quota_run, siting_runs):
    for run in (quota_run, siting_runs["p_median"], siting_runs["p_center"]):
        assert _headers_without_chinese(run / "results.xlsx") == [], run
