"""Reading tabular text files as planners save them: UTF-8 or GBK, strict about their shape.

CSV/TSV exported by Excel or WPS on a Chinese system are often GBK (read here as GB18030, its
superset). pandas would silently shift the columns of a row with more fields than the header
(using the first fields as an index) and cut a cell at a NUL byte: both are errors here, naming
the line.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["csv_header", "exists", "read_csv_text", "suffix"]


def exists(path: Path) -> bool:
    """``path.exists()``, False where the system cannot even look (e.g. a name too long)."""
    try:
        return path.exists()
    except OSError:
        return False


def suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".zip", ".xz") and len(suffixes) > 1:
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def read_csv_text(path: Path, usecols: list[str] | None = None, dtype: Any = str) -> pd.DataFrame:
    """A CSV/TSV as text columns: UTF-8 (BOM allowed), else GB18030 (a superset of GBK, as
    Excel saves CSV on a Chinese system). A row with more fields than the header, or a NUL byte
    in a cell, is a ValueError naming the line (pandas would shift the columns silently)."""
    sep = "\t" if suffix(path) == ".tsv" else ","
    _refuse_nul(path)
    last: Exception | None = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                frame = pd.read_csv(
                    path,
                    dtype=dtype,
                    keep_default_na=False,
                    na_values=[] if dtype is str else [""],
                    encoding=encoding,
                    sep=sep,
                    index_col=False,
                    skipinitialspace=True,
                )
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except pd.errors.ParserWarning:
            raise ValueError(
                "the first row has more fields than the header; check the separators"
            ) from None
        except pd.errors.ParserError as exc:
            raise ValueError(
                str(exc).replace("Error tokenizing data. C error: ", "").strip()
            ) from None
        if usecols is not None:
            frame = frame[usecols]
        return frame
    raise ValueError(f"cannot decode the file as UTF-8 or GB18030 ({last})")


def _refuse_nul(path: Path) -> None:
    """A NUL byte (a damaged export; pandas would cut the cell there) is an error naming the
    line. Compressed files are left to the reader."""
    if path.suffix.lower() in (".gz", ".bz2", ".zip", ".xz"):
        return
    lines = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            at = block.find(b"\x00")
            if at >= 0:
                line = lines + block.count(b"\n", 0, at) + 1
                raise ValueError(
                    f"line {line} holds a NUL byte (a damaged export); export the table again"
                )
            lines += block.count(b"\n")


def csv_header(path: Path) -> list[str]:
    sep = "\t" if suffix(path) == ".tsv" else ","
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return [str(c) for c in pd.read_csv(path, nrows=0, encoding=encoding, sep=sep).columns]
        except UnicodeDecodeError:
            continue
    raise ValueError("cannot decode the file as UTF-8 or GB18030")
