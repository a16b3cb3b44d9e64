"""Sweeps on a Dask cluster (a LocalCluster started here) give the local pool's frontier."""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer.errors import CaseError
from optimizer.scenarios.sweep import run_sweep

from .test_sweep import _write_case

distributed = pytest.importorskip("distributed")

COLUMNS = ["value", "status", "objective", "best_bound", "gap", "cost", "share_t", "sites_clinic"]


def test_dask_sweep_equals_local_pool_frontier(tmp_path):
    path, _ = _write_case(tmp_path)
    local = run_sweep(path, "model.budget", [0, 2, 4, 6, 9, 12], tmp_path / "local", workers=2)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
    ):
        remote = run_sweep(
            path,
            "model.budget",
            [0, 2, 4, 6, 9, 12],
            tmp_path / "dask",
            workers=1,
            cluster=cluster.scheduler_address,
        )
    pd.testing.assert_frame_equal(
        local[COLUMNS].reset_index(drop=True), remote[COLUMNS].reset_index(drop=True)
    )
    assert (remote["status"] == "optimal").all()
    # the workers' result files came back to this machine's output folder
    for k in range(6):
        assert (tmp_path / "dask" / "points" / f"{k:03d}" / "solution.json").exists()
    # folders are relative to the sweep folder, identical to a local run's
    assert list(remote["folder"]) == list(local["folder"]) == [f"points/{k:03d}" for k in range(6)]
    assert (tmp_path / "dask" / "frontier.csv").exists()


def test_unreachable_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("optimizer.scenarios.cluster.CONNECT_TIMEOUT_S", 1.0)
    path, _ = _write_case(tmp_path)
    with pytest.raises(CaseError, match="cannot reach the Dask scheduler"):
        run_sweep(path, "model.budget", [1, 2], tmp_path / "x", cluster="tcp://127.0.0.1:9")
