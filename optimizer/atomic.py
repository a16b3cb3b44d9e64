"""Atomic file output: nothing a reader can see is ever half-written.

Every file goes to a temporary name in the target folder, is flushed and fsynced, then moved over
the target with :func:`os.replace` (atomic on POSIX and Windows). :class:`StagedOutput` stages a
whole run's files and publishes them together only after every file was written, so a failure
half-way leaves the previous run's outputs untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

__all__ = [
    "CSV_ENCODINGS",
    "StagedOutput",
    "atomic_write",
    "csv_encoding_of",
    "json_default",
    "write_csv",
    "write_json",
]

CSV_ENCODINGS = ("utf-8-sig", "utf-8", "gbk")
"""``output.csv_encoding``: UTF-8 with BOM (default: Excel on Chinese Windows reads it right),
plain UTF-8 (other tools), or GBK (old Excel and tools that only read the local code page)."""


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


class StagedOutput:
    """Write a run's files into a staging folder, then publish them all into ``out_dir``.

    Use as a context manager; files are published only when the block exits without error.
    """

    def __init__(self, out_dir: str | os.PathLike[str], *, csv_encoding: str = "utf-8-sig") -> None:
        self.out_dir = Path(out_dir)
        self.csv_encoding = csv_encoding
        self._stage: Path | None = None
        self._names: list[str] = []
        self.tables: dict[str, pd.DataFrame] = {}
        """Every table written with :meth:`csv`, by file name (for ``results.xlsx``)."""

    def __enter__(self) -> StagedOutput:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.out_dir))
        return self

    def path(self, name: str) -> Path:
        assert self._stage is not None, "use StagedOutput as a context manager"
        if name not in self._names:
            self._names.append(name)
        p = self._stage / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def json(self, name: str, data: Any) -> None:
        write_json(self.path(name), data)

    def csv(self, name: str, frame: pd.DataFrame) -> None:
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
        try:
            if exc_type is None:
                for name in self._names:
                    src = self._stage / name
                    if not src.exists():
                        continue
                    dst = self.out_dir / name
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(src, dst)
                _fsync_dir(self.out_dir)
        finally:
            shutil.rmtree(self._stage, ignore_errors=True)

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
