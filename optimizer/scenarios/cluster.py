"""Run independent pieces of work (sweep chains, batch cases) on a Dask cluster instead of local processes.

    python -m optimizer sweep CASE.yaml --param model.budget --values 1e6:1e7:1e6 \\
        --out DIR --cluster tcp://10.0.0.5:8786

or ``solver.cluster: tcp://10.0.0.5:8786`` in the case. Start a scheduler and workers with
``dask scheduler`` and ``dask worker tcp://10.0.0.5:8786 --nthreads 1`` (each worker needs this
package and its data-free dependencies installed; the prepared case, travel times included, is
shipped to the workers once). Workers need no shared disk: each returns its result files as bytes
and this process writes them under the output folder.

``dask[distributed]`` is an optional extra: ``pip install -e ".[cluster]"``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import CaseError, Problem

__all__ = ["cluster_map", "collect_files", "connect", "write_files"]

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 30.0
"""How long to wait for the scheduler before giving up."""


def connect(address: str) -> Any:
    """A ``distributed.Client`` for the scheduler at ``address``, or a clear error."""
    try:
        from distributed import Client
    except ImportError:
        raise CaseError(
            [
                Problem(
                    "--cluster / solver.cluster",
                    "a Dask cluster was asked for but dask.distributed is not installed",
                    got=address,
                    fix='pip install "county-health-siting[cluster]" (or dask[distributed])',
                )
            ]
        ) from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise CaseError(
            [
                Problem(
                    "--cluster / solver.cluster",
                    f"cannot reach the Dask scheduler ({exc})",
                    got=address,
                    fix="start it with 'dask scheduler' and check the address and port",
                )
            ]
        ) from None


def cluster_map(
    address: str | Any,
    fn: Callable[[Any, Any], Any],
    items: Sequence[Any],
    shared: Any,
    *,
    return_exceptions: bool = False,
) -> list[Any]:
    """``[fn(shared, item) for item in items]`` on the cluster at ``address`` (or a
    ``distributed.Client``), ``shared`` sent to the workers once. Results in ``items`` order;
    with ``return_exceptions`` a failed task gives its exception in its place instead of
    raising (the other tasks' results are kept)."""
    own = isinstance(address, str)
    client: Any = connect(address) if own else address
    try:
        n = sum(client.nthreads().values())
        log.info(
            "Dask cluster %s: %d worker threads, %d tasks", client.scheduler.address, n, len(items)
        )
        shared_future = client.scatter(shared, broadcast=True)
        futures = [client.submit(fn, shared_future, item, pure=False) for item in items]
        if not return_exceptions:
            return list(client.gather(futures))
        out: list[Any] = []
        for fut in futures:
            try:
                out.append(fut.result())
            except Exception as exc:  # e.g. a worker lost (KilledWorker) or a task error
                out.append(exc)
        return out
    finally:
        if own:
            client.close()


def collect_files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` as ``relative path -> bytes`` (then ``root`` is removed)."""
    out = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    shutil.rmtree(root, ignore_errors=True)
    return out


def write_files(root: Path, files: dict[str, bytes]) -> None:
    """Write files returned by a worker under ``root``, each atomically."""
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
