"""Elastic rows in ModelBuilder and the one infeasibility diagnosis (optimizer.diagnosis)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import optimizer.diagnosis as diag_mod
from optimizer.diagnosis import (
    DIAGNOSIS_TIME_LIMIT_S,
    diagnose,
    diagnosis_options,
    relaxed_rows,
)
from optimizer.milp import MILP, ModelBuilder
from optimizer.solvers import SolveOptions, SolveResult, Status, solve


def _two_sites(elastic: bool) -> MILP:
    """Two binary sites; 'need' asks for 3 open (lo), 'cap' allows at most 1 (hi)."""
    b = ModelBuilder("tiny", "min", elastic=elastic)
    y = b.add_binary("y", 2)
    b.add_row("need", y.index(), 1.0, lo=3.0, penalty=2.0)
    b.add_row("cap", y.index(), 1.0, hi=1.0, penalty=1.0)
    b.add_row("hard", y.index(), 1.0, hi=2.0)  # no penalty: stays hard
    return b.build()


def test_elastic_rows_get_priced_slacks_only_in_an_elastic_builder():
    hard = _two_sites(False)
    assert not any(n.startswith("slack:") for n in hard.var_blocks)
    assert hard.n_cols == 2
    soft = _two_sites(True)
    assert [n for n in soft.var_blocks if n.startswith("slack:")] == ["slack:need", "slack:cap"]
    need, cap = soft.var_blocks["slack:need"], soft.var_blocks["slack:cap"]
    assert soft.c[need.slice].tolist() == [2.0] and soft.c[cap.slice].tolist() == [1.0]
    A = soft.A.toarray()
    # +1 relaxes the lower side of 'need', -1 the upper side of 'cap'; 'hard' has no slack
    assert A[soft.row_blocks["need"].start, need.start] == 1.0
    assert A[soft.row_blocks["cap"].start, cap.start] == -1.0
    assert A[soft.row_blocks["hard"].start, 2:].tolist() == [0.0, 0.0]


def test_elastic_block_rows_each_get_a_slack():
    b = ModelBuilder("block", "min", elastic=True)
    x = b.add_vars("x", 3, ub=1.0)
    b.add_rows(
        "each",
        3,
        np.arange(3),
        x.index(),
        1.0,
        lo=np.array([2.0, -np.inf, 0.5]),
        hi=1.0,
        penalty=np.array([1.0, 2.0, 3.0]),
    )
    milp = b.build()
    s = milp.var_blocks["slack:each"]
    assert s.size == 3 and milp.c[s.slice].tolist() == [1.0, 2.0, 3.0]
    assert np.diag(milp.A.toarray()[:, s.slice]).tolist() == [1.0, -1.0, 1.0]


def test_diagnose_names_the_least_relaxation():
    milp = _two_sites(True)
    res = solve(milp, SolveOptions(time_limit_s=10), "highs")
    assert res.status == Status.OPTIMAL and res.x is not None
    found = {row: float(vals[hit].sum()) for row, vals, hit in relaxed_rows(milp, res.x)}
    # opening 1 site: 'need' short by 2 (cost 4); opening 2: 'need' by 1 and 'cap' by 1 (cost 3)
    assert found == pytest.approx({"need": 1.0, "cap": 1.0})

    lines = diagnose(
        milp,
        SolveOptions(),
        "highs",
        lambda row, vals, hit: [f"- {row} by {vals[hit].sum():g}"],
        head="They conflict:",
        subject="case",
        nothing="- nothing",
    )
    assert lines == ["They conflict:", "- need by 1", "- cap by 1"]


def test_diagnose_says_when_nothing_needs_relaxing_and_when_it_ran_out_of_time(monkeypatch):
    b = ModelBuilder("fine", "min", elastic=True)
    y = b.add_binary("y", 2)
    b.add_row("need", y.index(), 1.0, lo=1.0, penalty=1.0)
    milp = b.build()
    kw: dict[str, Any] = {"head": "H", "subject": "norms", "nothing": "- no norm needs relaxing"}
    assert diagnose(milp, SolveOptions(), "highs", lambda *a: ["x"], **kw) == [
        "H",
        "- no norm needs relaxing",
    ]

    def stopped(milp, options, backend):
        assert options.time_limit_s == DIAGNOSIS_TIME_LIMIT_S and options.mip_rel_gap == 0.0
        return SolveResult(Status.NO_SOLUTION, None, None, None, 120.0, "highs", "")

    monkeypatch.setattr(diag_mod, "solve", stopped)
    lines = diagnose(milp, SolveOptions(time_limit_s=600), "highs", lambda *a: ["x"], **kw)
    assert lines == [
        "the solver proved the norms infeasible; the elastic diagnosis found no explanation "
        "within its time limit (no_solution)"
    ]


def test_diagnosis_options_cap_the_time_and_keep_the_case_settings():
    case = SolveOptions(time_limit_s=600, mip_rel_gap=0.05, threads=2, seed=7, presolve=False)
    opts = diagnosis_options(case)
    assert opts.time_limit_s == DIAGNOSIS_TIME_LIMIT_S and opts.mip_rel_gap == 0.0
    assert (opts.threads, opts.seed, opts.presolve) == (2, 7, False)
    assert diagnosis_options(SolveOptions(time_limit_s=5)).time_limit_s == 5
    assert diagnosis_options(case, time_limit_s=3.0, mip_rel_gap=1e-6).mip_rel_gap == 1e-6
