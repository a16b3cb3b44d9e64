"""Batches of cases (one per county, or scenario variants) on the local pool and on Dask."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from optimizer.cli import main
from optimizer.errors import CaseError
from optimizer.scenarios.batch import exit_code, expand_cases, run_batch

from .brute import brute_force
from .conftest import OBJ_RTOL
from .test_sweep import _write_case


def _batch(tmp_path):
    """Three cases with clashing stems: a/case.yaml (its own data), b/case.yaml (other data, in
    a sibling folder, one path absolute), c/case.yaml (two config errors). Returns the case
    paths and the brute-force optimum of each valid one."""
    (tmp_path / "a").mkdir()
    a, dense_a = _write_case(tmp_path / "a", seed=3)
    (tmp_path / "data_b").mkdir()
    src_b, dense_b = _write_case(tmp_path / "data_b", seed=11)
    (tmp_path / "b").mkdir()
    text_b = (
        src_b.read_text()
        .replace("file: demand.csv", f"file: {tmp_path / 'data_b' / 'demand.csv'}")
        .replace("file: sites.csv", "file: ../data_b/sites.csv")
        .replace("file: tt.csv", "file: ../data_b/tt.csv")
        .replace("budget: 1", "budget: 6")
    )
    b = tmp_path / "b" / "case.yaml"
    b.write_text(text_b)
    dense_b.model = dense_b.model.model_copy(update={"budget": 6.0})
    (tmp_path / "c").mkdir()
    for name in ("demand.csv", "sites.csv", "tt.csv"):
        shutil.copy(tmp_path / "a" / name, tmp_path / "c" / name)
    c = tmp_path / "c" / "case.yaml"
    c.write_text(
        a.read_text().replace("minutes: 9", "minutes: -9").replace("budget: 1", "budgte: 1")
    )
    return [a, b, c], {a: dense_a, b: dense_b}


def _without_seconds(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["seconds"], errors="ignore").reset_index(drop=True)


def test_local_pool_batch_equals_each_case_run_alone(tmp_path, capsys):
    cases, dense = _batch(tmp_path)
    out = tmp_path / "batch"
    code = main(["batch", *map(str, cases), "--out", str(out), "--workers", "2", "-q"])
    captured = capsys.readouterr()
    assert code == 1, "a case with bad input: exit code 1"
    table = pd.read_csv(out / "batch.csv", keep_default_na=False)
    assert list(table["case"]) == [str(c) for c in cases], "the order given"
    assert list(table["status"]) == ["optimal", "optimal", "bad_input"]
    assert list(table["folder"]) == ["a-case", "b-case", ""], "clashing stems qualified"
    bad = table.iloc[2]
    assert "standards[0].minutes" in bad["error"] and "budgte" in bad["error"], "every problem"
    assert f"error: {cases[2]}" in captured.err and "budgte" in captured.err
    assert "a-case" in captured.out and "BAD_INPUT" in captured.out
    assert not (out / "c-case").exists(), "nothing written for a bad case"
    for case, folder in zip(cases[:2], ["a-case", "b-case"], strict=True):
        alone = tmp_path / f"alone-{folder}"
        assert main(["run", str(case), "--out", str(alone), "-q"]) == 0
        ref = json.loads((alone / "solution.json").read_text())
        got = json.loads((out / folder / "solution.json").read_text())
        row = table.set_index("folder").loc[folder]
        assert got["objective"] == ref["objective"] == pytest.approx(float(row["objective"]))
        assert got["objective"] == pytest.approx(brute_force(dense[case]), rel=OBJ_RTOL)
        assert got["chosen_sites"] == ref["chosen_sites"]
        assert float(row["best_bound"]) == pytest.approx(ref["best_bound"])
        assert float(row["cost"]) == pytest.approx(ref["cost"]["total"])
        assert float(row["share_t"]) == pytest.approx(ref["coverage"]["t"]["share"])
        for name in ("sites.csv", "demand.csv"):
            assert (out / folder / name).read_bytes() == (alone / name).read_bytes(), name
    assert table.loc[0, "objective"] != table.loc[1, "objective"], "different data, answers"


def test_dask_batch_equals_local_pool(tmp_path):
    distributed = pytest.importorskip("distributed")
    cases, _ = _batch(tmp_path)
    local = run_batch(cases, tmp_path / "local", workers=1)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        remote = run_batch(cases, tmp_path / "dask", cluster=cluster.scheduler_address)
    pd.testing.assert_frame_equal(_without_seconds(local), _without_seconds(remote))
    on_disk = pd.read_csv(tmp_path / "dask" / "batch.csv")
    assert list(on_disk["status"]) == ["optimal", "optimal", "bad_input"]
    # the workers' result files came back, byte-identical to the local run's
    for folder in ("a-case", "b-case"):
        for name in ("solution.json", "sites.csv", "demand.csv", "zones.csv"):
            got = tmp_path / "dask" / folder / name
            assert got.exists(), got
            if name != "solution.json":  # solution.json holds run times
                assert got.read_bytes() == (tmp_path / "local" / folder / name).read_bytes()
        manifests = [
            json.loads((tmp_path / run / folder / "manifest.json").read_text())
            for run in ("local", "dask")
        ]
        for key in ("case_file", "case_sha256", "inputs_sha256", "files"):
            assert manifests[0][key] == manifests[1][key], key
    assert exit_code(remote) == 1


def test_unreachable_scheduler_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("optimizer.scenarios.cluster.CONNECT_TIMEOUT_S", 1.0)
    cases, _ = _batch(tmp_path)
    with pytest.raises(CaseError, match="cannot reach the Dask scheduler"):
        run_batch(cases, tmp_path / "x", cluster="tcp://127.0.0.1:9")
    code = main(
        ["batch", str(cases[0]), "--out", str(tmp_path / "y"), "--cluster", "tcp://127.0.0.1:9"]
    )
    assert code == 1 and "tcp://127.0.0.1:9" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_case_names_globs_and_exit_code_precedence(tmp_path):
    for d in ("north", "south"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "county.yaml").write_text("x")
    (tmp_path / "north" / "other.yml").write_text("x")
    items = expand_cases(
        [str(tmp_path / "*" / "county.yaml"), str(tmp_path / "north" / "*"), "nomatch/*.yaml"]
    )
    assert [i.folder for i in items[:3]] == ["north-county", "south-county", "other"]
    assert len(items) == 4, "north/county.yaml matched twice, run once"
    assert items[3].case == "nomatch/*.yaml" and "no case file matches" in items[3].problem
    same = tmp_path / "x" / "north"
    same.mkdir(parents=True)
    (same / "county.yaml").write_text("x")
    names = [
        i.folder for i in expand_cases([str(same / "county.yaml"), str(tmp_path / "*/county.yaml")])
    ]
    assert sorted(names) == ["north-county", "north-county-2", "south-county"]
    assert names == [
        i.folder for i in expand_cases([str(same / "county.yaml"), str(tmp_path / "*/county.yaml")])
    ], "deterministic"

    def code(*status):
        return exit_code(pd.DataFrame({"status": list(status)}))

    assert code("optimal", "feasible") == 0
    assert code("optimal", "infeasible") == 2
    assert code("no_solution", "bad_input") == 1
    assert code("bad_input", "error", "infeasible") == 3


def test_a_worker_needs_no_shared_disk(tmp_path):
    """What a Dask worker receives is enough: the case runs after its original files are gone
    (relative '../' paths and an absolute path included) and its result files come back."""
    from optimizer.case.loading import load_case
    from optimizer.scenarios.batch import _bundle, _run_remote

    cases, dense = _batch(tmp_path)
    b = cases[1]
    item = expand_cases([str(b)])[0]
    bundle = _bundle(item, load_case(b))
    assert sorted(bundle["files"]) == ["data_b/demand.csv", "data_b/sites.csv", "data_b/tt.csv"]
    assert bundle["base_rel"] == "b"
    shutil.rmtree(tmp_path / "data_b")
    row, files = _run_remote({"backend": None, "time_limit_s": None}, bundle)
    assert row["status"] == "optimal" and row["error"] == "", row["error"]
    assert row["objective"] == pytest.approx(brute_force(dense[b]), rel=OBJ_RTOL)
    assert {"solution.json", "sites.csv", "demand.csv", "manifest.json"} <= set(files)
    manifest = json.loads(files["manifest.json"])
    assert manifest["case_file"] == str(b), "reported under the path the planner gave"
    assert set(manifest["inputs_sha256"]) == {
        str(tmp_path / "data_b" / "demand.csv"),
        "../data_b/sites.csv",
        "../data_b/tt.csv",
    }


@pytest.mark.slow
def test_network_case_on_a_process_cluster_equals_local(tmp_path):
    """Andorra (real roads, travel-time matrices computed on the worker) on a Dask worker
    process (daemonic: the Dijkstra batches run in the worker) gives the local answer."""
    distributed = pytest.importorskip("distributed")
    from .conftest import ROOT, shared_path

    shared_path("data", "osm-andorra", "andorra_drive.graphml.gz")
    case = ROOT / "configs" / "andorra.yaml"
    local = run_batch([case], tmp_path / "local", workers=1)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = run_batch([case], tmp_path / "dask", cluster=cluster.scheduler_address)
    pd.testing.assert_frame_equal(_without_seconds(local), _without_seconds(remote))
    assert list(remote["status"]) == ["optimal"]
    for name in ("sites.csv", "demand.csv", "zones.csv"):
        a = (tmp_path / "local" / "andorra" / name).read_bytes()
        assert a == (tmp_path / "dask" / "andorra" / name).read_bytes(), name
