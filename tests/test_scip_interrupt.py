"""A SCIP solve stops at once on SIGINT / SIGTERM, like a HiGHS one (the CLI's handlers)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("pyscipopt")

CHILD = r"""
import signal, sys, time
import numpy as np
from optimizer.cli import _on_signal, Stopped
from optimizer.milp import ModelBuilder
from optimizer.solvers import SolveOptions, solve

signal.signal(signal.SIGINT, _on_signal)
signal.signal(signal.SIGTERM, _on_signal)
rng = np.random.default_rng(3)
n, m = 3000, 400
b = ModelBuilder("hard-mclp", "max")
y = b.add_binary("y", m)
z = b.add_vars("z", n, lb=0.0, ub=1.0, cost=rng.integers(1, 100, n).astype(float))
sites = np.array([rng.choice(m, 6, replace=False) for _ in range(n)])
rows = np.repeat(np.arange(n), 7)
cols = np.c_[z.index()[:, None], y.index()[sites]].ravel()
vals = np.tile(np.r_[1.0, -np.ones(6)], n)
b.add_rows("link", n, rows, cols, vals, hi=0.0)
b.add_row("p", y.index(), np.ones(m), hi=40.0)
print("solving", flush=True)
t0 = time.perf_counter()
try:
    solve(b.build(), SolveOptions(time_limit_s=120.0), "scip")
except (KeyboardInterrupt, Stopped):
    print(f"stopped {time.perf_counter() - t0:.2f}", flush=True)
    sys.exit(7)
print("finished", flush=True)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_scip_solve_stops_at_once_on_a_signal(sig):
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "solving"
    time.sleep(1.5)
    t0 = time.perf_counter()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    waited = time.perf_counter() - t0
    if "finished" in out:
        pytest.skip("the solve ended before the signal")
    assert proc.returncode == 7, err
    assert waited < 5.0, waited
