"""The input errors of issue 15, one by one: each a clear message naming file and field or
row, exit 1; never a traceback, never a silent accept; documented formats read."""

from __future__ import annotations

import io
import json
import logging

import pandas as pd
import pytest

from optimizer.cli import main

from .test_case_validation import CASE, DEMAND, TT, _files

XY = CASE.replace("class: area}", "class: area, x: x, y: y}\n  crs: {crs}")
DEMAND_XY = "vid,pop,town,area,x,y\nv1,100,t1,urban,{x},{y}\nv2,250,t1,rural,120.2,29.8\nv3,80,t2,rural,120.3,29.9\n"


def _run(tmp_path, capsys, yaml_text=CASE, raw=None, command="run", extra=(), **files):
    for name, body in _files(**files).items():
        (tmp_path / name).write_bytes(body if isinstance(body, bytes) else body.encode())
    case = tmp_path / "case.yaml"
    case.write_bytes(raw if raw is not None else yaml_text.encode())
    argv = [command, str(case), "-q", *extra]
    if command == "run" and "--out" not in extra:
        argv += ["--out", str(tmp_path / "out")]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize(
    ("label", "kwargs", "expect"),
    [
        (
            "dup-key",
            {
                "yaml_text": CASE.replace(
                    "  max_new_sites: 1\n", "  max_new_sites: 6\n  max_new_sites: 1\n"
                )
            },
            "'max_new_sites' is given twice (first at line 15)",
        ),
        (
            "minutes-true",
            {"yaml_text": CASE.replace("minutes: 15", "minutes: true")},
            "a number is needed here, not true",
        ),
        (
            "minutes-empty",
            {"yaml_text": CASE.replace("minutes: 15", "minutes: {}")},
            "model.standards[0].minutes",
        ),
        ("utf16", {"raw": CASE.encode("utf-16")}, "is a UTF-16 text case file"),
        ("binary", {"raw": bytes(range(256))}, "is not a text case file"),
        ("nested", {"raw": b"model: " + b"[" * 20000}, "nested more than 64 levels deep"),
        (
            "unclosed-quote",
            {"yaml_text": CASE.replace("name: test case", "name: 'test case")},
            "line 1, column 7",
        ),
        ("header-only", {"demand.csv": "vid,pop,town,area\n"}, "demand.file: the file has no rows"),
        ("five-fields", {"tt.csv": TT + "v3,s1,5,6,7\n"}, "Expected 3 fields in line 7, saw 5"),
        ("nul", {"demand.csv": DEMAND.replace("v2", "v\x002")}, "line 3 holds a NUL byte"),
        (
            "weight-1e300",
            {"demand.csv": DEMAND.replace("100", "1e300")},
            "demand.csv line 2 (id=v1): population/weight",
        ),
        (
            "crs-unknown",
            {
                "yaml_text": XY.replace("{crs}", "EPSG:99999"),
                "demand.csv": DEMAND_XY.format(x=120.1, y=29.7),
            },
            "demand.crs: unknown coordinate reference system",
        ),
        (
            "lonlat-range",
            {
                "yaml_text": XY.replace("{crs}", "EPSG:4326"),
                "demand.csv": DEMAND_XY.format(x=500, y=120),
            },
            "demand.csv line 2 (id=v1): coordinates out of range",
        ),
        (
            "long-path",
            {"yaml_text": CASE.replace("file: demand.csv", "file: " + "a" * 5000 + ".csv")},
            "File name too long",
        ),
        (
            "time-limit",
            {"extra": ("--time-limit", "nan")},
            "--time-limit: must be a finite number > 0",
        ),
        ("out-is-file", {"extra": ("--out", "{case}")}, "is an existing file, not a folder"),
    ],
)
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_input_is_named_in_run_and_validate(tmp_path, capsys, label, kwargs, expect, command):
    kwargs = dict(kwargs)
    if command == "validate" and "extra" in kwargs:
        pytest.skip("an option of run")
    extra = [a.replace("{case}", str(tmp_path / "case.yaml")) for a in kwargs.pop("extra", ())]
    code, err = _run(tmp_path, capsys, command=command, extra=extra, **kwargs)
    assert code == 1, f"{label}: exit {code}"
    assert expect in err, err


def test_gbk_case_file_and_gbk_od_table_are_read(tmp_path, capsys):
    gbk = CASE.replace("name: test case", "name: 诸暨村卫生室").replace(
        "demand_id: vid", "demand_id: 村"
    )
    code, err = _run(
        tmp_path, capsys, raw=gbk.encode("gbk"), **{"tt.csv": TT.replace("vid", "村").encode("gbk")}
    )
    assert code == 0, err
    sol = json.loads((tmp_path / "out" / "solution.json").read_text(encoding="utf-8"))
    assert sol["case"]["name"] == "诸暨村卫生室"  # decoded as GBK, written as UTF-8


def test_gbk_case_file_is_read_with_a_warning(tmp_path, caplog):
    from optimizer.casefile import read_case_text

    path = tmp_path / "case.yaml"
    path.write_bytes("name: 诸暨\n".encode("gbk"))
    logging.getLogger("optimizer.casefile").disabled = False  # dask's logging config may disable it
    with caplog.at_level(logging.WARNING, logger="optimizer.casefile"):
        assert read_case_text(path) == "name: 诸暨\n"
    assert "read it as GBK" in caplog.text


def test_parquet_tables_are_read_through_pyarrow(tmp_path, capsys):
    for name, text in (("tt", TT), ("demand", DEMAND)):
        buf = io.BytesIO()
        pd.read_csv(io.StringIO(text), dtype=str).to_parquet(buf, engine="pyarrow")
        (tmp_path / f"{name}.parquet").write_bytes(buf.getvalue())
    yaml_text = CASE.replace("file: tt.csv", "file: tt.parquet").replace(
        "file: demand.csv", "file: demand.parquet"
    )
    code, err = _run(tmp_path, capsys, yaml_text=yaml_text)
    assert code == 0, err
    assert (tmp_path / "out" / "solution.json").exists()


def test_demand_nobody_can_reach_is_named(tmp_path, capsys):
    code, _ = _run(tmp_path, capsys, **{"tt.csv": "vid,sid,min\nv1,s1,50\n"})
    assert code == 0
    summary = (tmp_path / "out" / "summary.txt").read_text(encoding="utf-8")
    assert "out of reach of every site: 3 demand points (430 residents): v1, v2, v3" in summary


def test_a_bug_ends_with_a_request_to_report_it(tmp_path, capsys, monkeypatch):
    import optimizer.case.run

    def broken(*_a, **_k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(optimizer.case.run, "prepare_any", broken)
    assert main(["validate", str(tmp_path / "case.yaml"), "-q"]) == 3
    err = capsys.readouterr().err
    assert "ZeroDivisionError" in err and "please report it" in err
