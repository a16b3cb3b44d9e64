"""Atomic output: a reader sees the previous run folder whole or the new one whole, never a mix.

Every file goes to a temporary name, is flushed and fsynced, then moved over its target with
:func:`os.replace`. :class:`StagedOutput` writes a whole run into a sibling staging folder
(``.<name>.staging-*``) and publishes it with one directory swap (Linux ``renameat2`` with
``RENAME_EXCHANGE``; elsewhere two renames, undone by the next run if interrupted between them),
so files an older run wrote and this one does not never survive. ``manifest.json`` lists every
file with its sha256 (``timings.json``, the one file that differs between reruns, is listed
unhashed); :func:`verify_manifest` checks a folder against it. A lock file
(``.<name>.lock``, an ``flock`` released even by ``kill -9``) refuses a second run into the same
folder; staging folders left by a killed run are removed by the next run into that folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import hashlib
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from .errors import CaseError, Problem

try:
    import fcntl
except ImportError:  # Windows: the lock file is then advisory only
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "CSV_ENCODINGS",
    "StagedOutput",
    "atomic_write",
    "check_out_dir",
    "claim",
    "csv_encoding_of",
    "json_default",
    "seal_manifest",
    "split_timings",
    "verify_manifest",
    "write_csv",
    "write_json",
]

CSV_ENCODINGS = ("utf-8-sig", "utf-8", "gbk")
"""``output.csv_encoding``: UTF-8 with BOM (default: Excel on Chinese Windows reads it right),
plain UTF-8 (other tools), or GBK (old Excel and tools that only read the local code page)."""

log = logging.getLogger(__name__)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success fsync it and move it over ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; outputs follow the user's umask
    try:
        if "b" not in mode:
            kwargs.setdefault("encoding", "utf-8")
            kwargs.setdefault("newline", "")
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def json_default(obj: object) -> object:
    """JSON encoder for numpy scalars/arrays, paths and sets."""
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (Path, os.PathLike)):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def _finite(obj: Any) -> Any:
    """Replace non-finite floats by None so the JSON is standard (no NaN/Infinity tokens)."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    with atomic_write(path) as fh:
        json.dump(
            _finite(data), fh, ensure_ascii=False, indent=2, default=json_default, allow_nan=False
        )
        fh.write("\n")


def write_csv(
    path: str | os.PathLike[str], frame: pd.DataFrame, *, encoding: str = "utf-8-sig"
) -> None:
    """``frame`` as CSV in ``encoding`` (one of :data:`CSV_ENCODINGS`; UTF-8 with BOM by default).

    GBK cannot hold every character: a cell it cannot encode raises :class:`ValueError` naming the
    file, column and row (choose ``utf-8-sig`` then), never a silently altered table."""
    if encoding not in CSV_ENCODINGS:
        raise ValueError(
            f"csv encoding must be one of {', '.join(CSV_ENCODINGS)} (got {encoding!r})"
        )
    text = frame.to_csv(index=False, lineterminator="\n")
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise ValueError(_unencodable(Path(path).name, frame, encoding, exc)) from None
    with atomic_write(path, "wb") as fh:
        fh.write(data)


def _unencodable(name: str, frame: pd.DataFrame, encoding: str, exc: UnicodeEncodeError) -> str:
    bad = exc.object[exc.start : exc.end]
    where = name
    for col in frame.columns:
        hit = frame[col].astype(str).str.contains(bad, regex=False)
        if str(col).find(bad) >= 0:
            where = f"{name} column header '{col}'"
            break
        if hit.any():
            row = int(np.flatnonzero(hit.to_numpy())[0])
            where = f"{name} column '{col}' row {row + 2}"
            break
    return (
        f"{where}: the character {bad!r} has no {encoding.upper()} code; set "
        "output.csv_encoding: utf-8-sig (Excel reads UTF-8 with BOM) or rename the item"
    )


def csv_encoding_of(path: str | os.PathLike[str]) -> str:
    """The encoding a run's CSV was written in: ``utf-8-sig`` (BOM), ``utf-8``, else ``gbk``."""
    with open(path, "rb") as fh:
        data = fh.read()
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "gbk"
    return "utf-8"


UNHASHED = "timings.json"  # run times: the one output that differs between two runs of a case
TIMING_KEYS = frozenset({"runtime_s", "total_time_s", "build_time_s", "load_time_s", "seconds"})


def split_timings(data: Any, prefix: str = "") -> tuple[Any, dict[str, Any]]:
    """Take every wall-clock figure (keys in :data:`TIMING_KEYS`, at any depth) out of ``data``.

    Returns the data without them and ``{dotted.path: seconds}``, so that every other output
    of two runs of one case is byte-identical."""
    times: dict[str, Any] = {}
    if isinstance(data, dict):
        clean = {}
        for key, value in data.items():
            if key in TIMING_KEYS and (value is None or isinstance(value, (int, float))):
                times[prefix + str(key)] = value
            else:
                clean[key], inner = split_timings(value, f"{prefix}{key}.")
                times.update(inner)
        return clean, times
    if isinstance(data, list):
        items = []
        for k, value in enumerate(data):
            item, inner = split_timings(value, f"{prefix}{k}.")
            items.append(item)
            times.update(inner)
        return items, times
    return data, times


_HELD: dict[Path, list[int]] = {}  # folders this process has claimed: path -> [lock fd, depth]
_on_step: Callable[[str], None] | None = None  # test hook: called at each publishing step


def _step(name: str) -> None:
    if _on_step is not None:
        _on_step(name)


def _out_problem(out: Path, what: str, fix: str) -> CaseError:
    return CaseError([Problem(f"output folder {out}", what, fix=fix)])


def check_out_dir(out_dir: str | os.PathLike[str]) -> Path:
    """Refuse, before any solving, an output folder that cannot take a run; return it resolved.

    Refused: an existing file; a path through a file; a folder that holds files but no
    ``manifest.json`` (publishing replaces the whole folder, so it must be an earlier run's or
    new or empty); a name too long for the staging folder beside it."""
    out = Path(out_dir)
    fix = "give a new folder name, or the --out folder of an earlier run"
    if out.exists() and not out.is_dir():
        raise _out_problem(out, "is an existing file, not a folder", fix)
    for up in out.parents:
        if up.exists() and not up.is_dir():
            raise _out_problem(out, f"{up} on its path is a file, not a folder", fix)
    real = out.resolve()
    if real.name == "" or real == real.parent:
        raise _out_problem(out, "is the root of the file system", fix)
    if len(real.name.encode("utf-8")) > 200:
        raise _out_problem(out, f"its name is {len(real.name)} characters long", "use at most 200")
    if real.is_dir() and not (real / "manifest.json").is_file() and any(real.iterdir()):
        raise _out_problem(
            out,
            "holds files but no manifest.json, so it is not a run folder of this toolkit "
            "(publishing a run replaces the whole folder)",
            fix,
        )
    return real


@contextlib.contextmanager
def claim(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the lock of an output folder (re-entrant in this process); clean up after killed runs.

    The lock is ``.<name>.lock`` beside the folder, held with ``flock`` so that the kernel
    releases it when the process dies however it dies. A second run gets a :class:`CaseError`."""
    real = check_out_dir(out_dir)
    held = _HELD.get(real)
    if held is not None:
        held[1] += 1
        try:
            yield real
        finally:
            held[1] -= 1
        return
    real.parent.mkdir(parents=True, exist_ok=True)
    lock = real.parent / f".{real.name}.lock"
    fd = _lock(lock, Path(out_dir))
    _HELD[real] = [fd, 1]
    try:
        _recover(real)
        yield real
    finally:
        del _HELD[real]
        with contextlib.suppress(OSError):
            lock.unlink()
        os.close(fd)


def _lock(lock: Path, shown: Path) -> int:
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise _out_problem(
                shown,
                f"another run is writing into it (process {holder}; lock file {lock})",
                "wait until that run ends, or give another --out folder",
            ) from None
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not a lock file that its last holder unlinked while we waited
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode("ascii"))
            return fd
        os.close(fd)


def _leftovers(real: Path, kind: str) -> list[Path]:
    return sorted(real.parent.glob(f".{glob.escape(real.name)}.{kind}-*"))


def _recover(real: Path) -> None:
    """Undo what a killed run left: an old run moved aside (put back), staging folders (removed)."""
    olds = _leftovers(real, "old")
    if olds and not real.exists():
        os.rename(olds[-1], real)
        log.warning("Restored %s: a run was stopped while publishing it", real)
        olds = olds[:-1]
    for stale in [*_leftovers(real, "staging"), *olds]:
        shutil.rmtree(stale, ignore_errors=True)
        log.info("Removed %s, left by a run that was stopped", stale)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where
    the system or the file system cannot."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while the folder is swapped; they act right after."""
    sigs = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, sigs)


def _publish(stage: Path, real: Path) -> None:
    """Swap the staged folder in; the previous run (now at ``stage``) is removed by the caller."""
    with _signals_deferred():
        _step("swap")
        if not real.exists():
            os.rename(stage, real)
        elif not _exchange(stage, real):
            old = real.parent / f".{real.name}.old-{stage.name.rsplit('-', 1)[-1]}"
            os.rename(real, old)
            _step("moved-aside")
            os.rename(stage, real)
            os.rename(old, stage)
        _fsync_dir(real.parent)
        _step("swapped")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def seal_manifest(folder: Path) -> None:
    """Write into ``manifest.json`` the list of every file of ``folder`` and its sha256."""
    path = folder / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    files = [f for f in _files(folder) if f != "manifest.json"]
    data["files"] = files
    data["sha256"] = {f: _sha256(folder / f) for f in files if Path(f).name != UNHASHED}
    data["unhashed"] = [f for f in files if Path(f).name == UNHASHED]
    write_json(path, data)


def verify_manifest(folder: str | os.PathLike[str], label: str = "RUN_DIR") -> None:
    """Check every file of a run folder against its manifest: a :class:`CaseError` naming each
    file that is missing, changed, or not listed (left by another program)."""
    root = Path(folder)
    path = root / "manifest.json"
    if not path.is_file():
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CaseError([Problem(f"{label} {path}", f"cannot be read: {exc}")]) from None
    hashes = data.get("sha256") if isinstance(data, dict) else None
    if not isinstance(hashes, dict):
        return  # written before manifests carried hashes
    fix = "run the case again into this folder (files of a run must not be edited)"
    problems = []
    listed = {str(f) for f in data.get("files", [])} | set(hashes)
    for name, digest in sorted(hashes.items()):
        p = root / name
        if not p.is_file():
            problems.append(
                Problem(
                    f"{label} {root}", f"{name} is listed in manifest.json but missing", fix=fix
                )
            )
        elif _sha256(p) != digest:
            problems.append(
                Problem(
                    f"{label} {root}",
                    f"{name} differs from its sha256 in manifest.json",
                    got=_sha256(p)[:12],
                    fix=fix,
                )
            )
    for name in _files(root):
        if (
            name != "manifest.json"
            and name not in listed
            and not Path(name).name.startswith((".", "~$"))
        ):
            problems.append(
                Problem(
                    f"{label} {root}",
                    f"{name} is not listed in manifest.json",
                    fix="remove it, or " + fix,
                )
            )
    if problems:
        raise CaseError(problems, header=f"{label} {root} does not match its manifest.json")


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)  # outputs are replaced, never edited in place: sharing is safe
    except OSError:
        shutil.copy2(src, dst)


class StagedOutput:
    """Write a run's files into a staging folder beside ``out_dir``, then swap it in whole.

    Use as a context manager: on a clean exit ``manifest.json`` is sealed (every file with its
    sha256) and the folder published in one step; on an error or a signal the staging folder is
    removed and the previous run stays as it was. ``keep_existing`` starts from a copy of the
    current folder (``report`` rewriting one file of a run)."""

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        *,
        keep_existing: bool = False,
        csv_encoding: str = "utf-8-sig",
    ) -> None:
        self.out_dir = Path(out_dir)
        self.keep_existing = keep_existing
        self.csv_encoding = csv_encoding
        self._stage: Path | None = None
        self._names: list[str] = []
        self._timings: dict[str, dict[str, Any]] = {}
        self._stack = contextlib.ExitStack()
        self.tables: dict[str, pd.DataFrame] = {}
        """Every table written with :meth:`csv`, by file name (for ``results.xlsx``)."""

    def __enter__(self) -> StagedOutput:
        with contextlib.ExitStack() as stack:
            real = stack.enter_context(claim(self.out_dir))
            stage = Path(tempfile.mkdtemp(prefix=f".{real.name}.staging-", dir=real.parent))
            stack.callback(shutil.rmtree, stage, ignore_errors=True)
            os.chmod(stage, 0o777 & ~_umask())
            if self.keep_existing and real.is_dir():
                shutil.copytree(real, stage, dirs_exist_ok=True, copy_function=_link_or_copy)
            self._real, self._stage = real, stage
            self._stack = stack.pop_all()
        return self

    def path(self, name: str) -> Path:
        assert self._stage is not None, "use StagedOutput as a context manager"
        if name not in self._names:
            self._names.append(name)
        p = self._stage / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def json(self, name: str, data: Any) -> None:
        """Write JSON; its timing figures go to ``timings.json`` (see :func:`split_timings`)."""
        data, times = split_timings(data)
        if times:
            self._timings[name] = times
        write_json(self.path(name), data)

    def csv(self, name: str, frame: pd.DataFrame) -> None:
        """Write a table; a ``seconds`` column (wall-clock time per row) goes to timings.json."""
        if "seconds" in frame.columns:
            self._timings[name] = {"seconds": frame["seconds"].tolist()}
            frame = frame.drop(columns="seconds")
        write_csv(self.path(name), frame, encoding=self.csv_encoding)
        self.tables[name] = frame

    def text(self, name: str, text: str) -> None:
        with atomic_write(self.path(name)) as fh:
            fh.write(text)

    def write_with(self, name: str, writer: Callable[[Path], None]) -> None:
        """Let ``writer`` create the file at the staged path (e.g. a GeoPackage driver)."""
        writer(self.path(name))

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._stage is not None
        with self._stack:  # removes the staging folder (after the swap: the previous run)
            if exc_type is None:
                if self._timings:
                    write_json(self._stage / UNHASHED, self._timings)
                _step("staged")
                seal_manifest(self._stage)
                _step("sealed")
                _publish(self._stage, self._real)
        _step("done")

    @property
    def names(self) -> list[str]:
        return list(self._names)

    @property
    def stage_dir(self) -> Path:
        """The staging folder: files written so far can be read back before publishing."""
        assert self._stage is not None, "use StagedOutput as a context manager"
        return self._stage


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
