"""A mixed-integer linear program in matrix form, and a vectorised builder for it.

Every model family (coverage, p-median, fleet, staffing ...) builds a :class:`MILP`: sparse
constraint matrix, row and column bounds, integrality and objective, with named blocks of
variables and rows so that a solution vector can be decoded and a diagnosis can name the
constraint group. Solver backends (:mod:`optimizer.solvers`) consume only this object, so a model
is written once and solved by HiGHS, CBC or OR-Tools alike.

Building is vectorised: a block of rows is added as COO triplets (numpy arrays), never one
coefficient at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp

__all__ = ["MILP", "Block", "ModelBuilder", "lexicographic_stage", "split_blocks", "sub_milp"]

log = logging.getLogger(__name__)

Sense = Literal["min", "max"]


@dataclass(frozen=True)
class Block:
    """A contiguous range of variables or rows with a name (``y``, ``cover[15min]`` ...)."""

    name: str
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)

    def index(self, local: np.ndarray | int | None = None) -> np.ndarray:
        """Global indices of (a subset of) this block."""
        base = np.arange(self.start, self.stop)
        return base if local is None else base[local]


@dataclass(frozen=True, eq=False)
class MILP:
    """``sense c·x + c0`` subject to ``row_lo <= A x <= row_hi``, ``col_lo <= x <= col_hi``."""

    name: str
    sense: Sense
    c: np.ndarray
    c0: float
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    var_blocks: dict[str, Block] = field(default_factory=dict)
    row_blocks: dict[str, Block] = field(default_factory=dict)
    labels: dict[str, list[str]] = field(default_factory=dict)
    """Display labels of the rows of a block (e.g. the zone of each zone-share row)."""

    @property
    def n_cols(self) -> int:
        return int(self.c.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.A.shape[0])

    @property
    def nnz(self) -> int:
        return int(self.A.nnz)

    @property
    def n_integer(self) -> int:
        return int(self.integer.sum())

    def objective_value(self, x: np.ndarray) -> float:
        return float(self.c @ x + self.c0)

    def max_violation(self, x: np.ndarray) -> tuple[float, str]:
        """Largest bound or row violation of ``x`` and where it is (for backend sanity checks)."""
        worst, where = 0.0, ""
        ax = self.A @ x
        for vals, lo, hi, blocks, kind in (
            (x, self.col_lo, self.col_hi, self.var_blocks, "variable"),
            (ax, self.row_lo, self.row_hi, self.row_blocks, "row"),
        ):
            viol = np.maximum(lo - vals, vals - hi)
            viol = np.where(np.isfinite(viol), viol, 0.0)
            if viol.size and viol.max() > worst:
                k = int(viol.argmax())
                worst = float(viol[k])
                where = f"{kind} {_block_of(blocks, k)}"
        frac = np.abs(x - np.round(x))[self.integer]
        if frac.size and frac.max() > worst:
            k = int(np.flatnonzero(self.integer)[frac.argmax()])
            worst = float(frac.max())
            where = f"integrality of variable {_block_of(self.var_blocks, k)}"
        return worst, where

    def summary(self) -> str:
        return (
            f"{self.n_rows:,} rows x {self.n_cols:,} columns ({self.n_integer:,} integer), "
            f"{self.nnz:,} nonzeros"
        )


def split_blocks(milp: MILP) -> list[tuple[np.ndarray, np.ndarray]]:
    """Independent blocks of a MILP: ``(columns, rows)`` of each connected component of the
    row-column incidence graph. The objective is separable, so optimising each block alone and
    adding the results is exact. Columns in no row are gathered into one last block."""
    from scipy.sparse.csgraph import connected_components

    m, n = milp.A.shape
    coo = milp.A.tocoo()
    # graph on rows (0..m-1) and columns (m..m+n-1)
    g = sp.csr_matrix(
        (np.ones(coo.nnz, dtype=np.int8), (coo.row, coo.col + m)), shape=(m + n, m + n)
    )
    n_comp, labels = connected_components(g, directed=False)
    col_label = labels[m:]
    row_label = labels[:m]
    in_rows = np.zeros(n, dtype=bool)
    in_rows[coo.col] = True
    blocks: list[tuple[np.ndarray, np.ndarray]] = []
    order = np.argsort(col_label[in_rows], kind="stable")
    cols_in = np.flatnonzero(in_rows)[order]
    lab_sorted = col_label[in_rows][order]
    starts = np.r_[0, np.flatnonzero(np.diff(lab_sorted)) + 1, lab_sorted.size]
    row_order = np.argsort(row_label, kind="stable")
    row_lab_sorted = row_label[row_order]
    for k in range(starts.size - 1):
        cols = np.sort(cols_in[starts[k] : starts[k + 1]])
        lab = lab_sorted[starts[k]]
        lo, hi = np.searchsorted(row_lab_sorted, [lab, lab + 1])
        blocks.append((cols, np.sort(row_order[lo:hi])))
    free = np.flatnonzero(~in_rows)
    if free.size:
        blocks.append((free, np.zeros(0, dtype=np.int64)))
    del n_comp
    return blocks


def sub_milp(milp: MILP, cols: np.ndarray, rows: np.ndarray, name: str) -> MILP:
    """The block ``(cols, rows)`` as its own MILP (objective constant 0; blocks keep no names)."""
    return MILP(
        name=name,
        sense=milp.sense,
        c=milp.c[cols],
        c0=0.0,
        A=sp.csr_matrix(milp.A[rows][:, cols]),
        row_lo=milp.row_lo[rows],
        row_hi=milp.row_hi[rows],
        col_lo=milp.col_lo[cols],
        col_hi=milp.col_hi[cols],
        integer=milp.integer[cols],
    )


def lexicographic_stage(
    milp: MILP, *, floor: float, c: np.ndarray, c0: float, sense: Sense, name: str
) -> MILP:
    """Second stage of a lexicographic optimisation: keep the first objective at ``floor``
    or better (``c_1 x + c0_1 >= floor`` for a maximisation, ``<=`` for a minimisation) and
    optimise the new objective ``c x + c0`` with ``sense``."""
    first = sp.csr_matrix(milp.c.reshape(1, -1))
    A = sp.vstack([milp.A, first], format="csr")
    if milp.sense == "max":
        lo, hi = floor - milp.c0, np.inf
    else:
        lo, hi = -np.inf, floor - milp.c0
    blocks = dict(milp.row_blocks)
    blocks["first_objective"] = Block("first_objective", milp.n_rows, milp.n_rows + 1)
    return MILP(
        name=name,
        sense=sense,
        c=np.asarray(c, dtype=float),
        c0=float(c0),
        A=A,
        row_lo=np.r_[milp.row_lo, lo],
        row_hi=np.r_[milp.row_hi, hi],
        col_lo=milp.col_lo,
        col_hi=milp.col_hi,
        integer=milp.integer,
        var_blocks=dict(milp.var_blocks),
        row_blocks=blocks,
        labels=dict(milp.labels),
    )


def _block_of(blocks: dict[str, Block], k: int) -> str:
    for b in blocks.values():
        if b.start <= k < b.stop:
            return f"{b.name}[{k - b.start}]"
    return f"#{k}"


class ModelBuilder:
    """Accumulate variable blocks and row blocks, then :meth:`build` one :class:`MILP`.

    ``elastic=True`` builds the *elastic* model of an infeasibility diagnosis (Chinneck 2008,
    ch. 6): every row block added with a ``penalty`` gets one slack column per row, block
    ``slack:<name>``, priced at ``penalty`` (:mod:`optimizer.diagnosis` solves and words it).
    Without ``elastic`` the penalties are ignored and the rows stay hard.
    """

    def __init__(self, name: str, sense: Sense, *, elastic: bool = False) -> None:
        self.name = name
        self.sense: Sense = sense
        self.elastic = elastic
        self._c: list[np.ndarray] = []
        self._lo: list[np.ndarray] = []
        self._hi: list[np.ndarray] = []
        self._int: list[np.ndarray] = []
        self._rows_i: list[np.ndarray] = []
        self._rows_j: list[np.ndarray] = []
        self._rows_v: list[np.ndarray] = []
        self._row_lo: list[np.ndarray] = []
        self._row_hi: list[np.ndarray] = []
        self.c0 = 0.0
        self.n_cols = 0
        self.n_rows = 0
        self.var_blocks: dict[str, Block] = {}
        self.row_blocks: dict[str, Block] = {}
        self.labels: dict[str, list[str]] = {}

    # -- variables -------------------------------------------------------------------------
    def add_vars(
        self,
        name: str,
        n: int,
        *,
        lb: float | np.ndarray = 0.0,
        ub: float | np.ndarray = np.inf,
        integer: bool = False,
        cost: float | np.ndarray = 0.0,
    ) -> Block:
        if name in self.var_blocks:
            raise ValueError(f"variable block {name!r} already exists")
        block = Block(name, self.n_cols, self.n_cols + n)
        self._c.append(np.broadcast_to(np.asarray(cost, dtype=float), (n,)).copy())
        self._lo.append(np.broadcast_to(np.asarray(lb, dtype=float), (n,)).copy())
        self._hi.append(np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy())
        self._int.append(np.full(n, integer, dtype=bool))
        self.n_cols += n
        self.var_blocks[name] = block
        return block

    def add_binary(self, name: str, n: int, *, cost: float | np.ndarray = 0.0) -> Block:
        return self.add_vars(name, n, lb=0.0, ub=1.0, integer=True, cost=cost)

    def set_cost(self, block: Block, cost: float | np.ndarray) -> None:
        """Replace the objective coefficients of ``block`` (used by lexicographic stages)."""
        k = list(self.var_blocks).index(block.name)
        self._c[k] = np.broadcast_to(np.asarray(cost, dtype=float), (block.size,)).copy()

    # -- rows ------------------------------------------------------------------------------
    def add_rows(
        self,
        name: str,
        n: int,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray | float,
        *,
        lo: float | np.ndarray = -np.inf,
        hi: float | np.ndarray = np.inf,
        penalty: float | np.ndarray | None = None,
    ) -> Block:
        """Add ``n`` rows given as COO triplets with row indices local to the block (0..n-1).

        ``penalty`` (per row) makes the rows elastic in an elastic builder: see the class."""
        if name in self.row_blocks:
            raise ValueError(f"row block {name!r} already exists")
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        vals_arr = np.broadcast_to(np.asarray(vals, dtype=float), rows.shape)
        if self.elastic and penalty is not None:
            rows, cols, vals_arr = self._with_slack(name, n, rows, cols, vals_arr, lo, penalty)
        if rows.size and (rows.min() < 0 or rows.max() >= n):
            raise ValueError(f"row block {name!r}: local row index out of range")
        if cols.size and (cols.min() < 0 or cols.max() >= self.n_cols):
            raise ValueError(f"row block {name!r}: column index out of range")
        block = Block(name, self.n_rows, self.n_rows + n)
        self._rows_i.append(rows + self.n_rows)
        self._rows_j.append(cols)
        self._rows_v.append(vals_arr.copy())
        self._row_lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (n,)).copy())
        self._row_hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (n,)).copy())
        self.n_rows += n
        self.row_blocks[name] = block
        return block

    def add_row(
        self,
        name: str,
        cols: np.ndarray,
        vals: np.ndarray | float,
        *,
        lo: float = -np.inf,
        hi: float = np.inf,
        penalty: float | None = None,
    ) -> Block:
        """Add one row (elastic with a ``penalty`` in an elastic builder)."""
        cols = np.asarray(cols, dtype=np.int64)
        rows = np.zeros(cols.size, dtype=np.int64)
        return self.add_rows(name, 1, rows, cols, vals, lo=lo, hi=hi, penalty=penalty)

    def _with_slack(
        self,
        name: str,
        n: int,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray,
        lo: float | np.ndarray,
        penalty: float | np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows' triplets with a slack column each (block ``slack:<name>``, cost
        ``penalty``): +1 relaxes a row's lower side, -1 (rows without one) its upper side."""
        sign = np.where(np.isfinite(np.broadcast_to(np.asarray(lo, dtype=float), (n,))), 1.0, -1.0)
        slack = self.add_vars(f"slack:{name}", n, lb=0.0, cost=penalty)
        return (
            np.concatenate([rows, np.arange(n)]),
            np.concatenate([cols, slack.index()]),
            np.concatenate([vals, sign]),
        )

    def import_milp(self, milp: MILP, prefix: str = "") -> dict[str, Block]:
        """Copy every variable and row block of ``milp`` into this builder (objective included,
        constant added), names prefixed; returns the new variable blocks by old name."""
        offset = self.n_cols
        covered_cols = sum(b.size for b in milp.var_blocks.values())
        covered_rows = sum(b.size for b in milp.row_blocks.values())
        if covered_cols != milp.n_cols or covered_rows != milp.n_rows:
            raise ValueError(
                f"{milp.name}: every column and row must belong to a named block to import it"
            )
        blocks: dict[str, Block] = {}
        for name, blk in sorted(milp.var_blocks.items(), key=lambda kv: kv[1].start):
            blocks[name] = self.add_vars(
                prefix + name,
                blk.size,
                lb=milp.col_lo[blk.slice],
                ub=milp.col_hi[blk.slice],
                cost=milp.c[blk.slice],
            )
            self._int[-1] = milp.integer[blk.slice].copy()
        coo = milp.A.tocoo()
        for name, blk in sorted(milp.row_blocks.items(), key=lambda kv: kv[1].start):
            keep = (coo.row >= blk.start) & (coo.row < blk.stop)
            self.add_rows(
                prefix + name,
                blk.size,
                coo.row[keep] - blk.start,
                coo.col[keep] + offset,
                coo.data[keep],
                lo=milp.row_lo[blk.slice],
                hi=milp.row_hi[blk.slice],
            )
        for name, labels in milp.labels.items():
            self.labels[prefix + name] = list(labels)
        self.c0 += milp.c0
        return blocks

    # -- result ----------------------------------------------------------------------------
    def build(self) -> MILP:
        def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

        i = cat(self._rows_i, np.int64)
        j = cat(self._rows_j, np.int64)
        v = cat(self._rows_v, float)
        keep = v != 0.0
        A = sp.csr_matrix((v[keep], (i[keep], j[keep])), shape=(self.n_rows, self.n_cols))
        A.sum_duplicates()
        A.sort_indices()
        milp = MILP(
            name=self.name,
            sense=self.sense,
            c=cat(self._c, float),
            c0=float(self.c0),
            A=A,
            row_lo=cat(self._row_lo, float),
            row_hi=cat(self._row_hi, float),
            col_lo=cat(self._lo, float),
            col_hi=cat(self._hi, float),
            integer=cat(self._int, bool),
            var_blocks=dict(self.var_blocks),
            row_blocks=dict(self.row_blocks),
            labels=dict(self.labels),
        )
        log.debug("Built %s: %s", self.name, milp.summary())
        return milp
