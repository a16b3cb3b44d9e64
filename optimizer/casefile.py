"""Reading a case file as a planner saves it: any text encoding we can tell, strict YAML.

* Text: UTF-8 (with or without a BOM); a file that is not UTF-8 but decodes as GBK (Windows
  Notepad or WPS on a Chinese system) is read as GBK with a warning; anything else (UTF-16,
  binary, a folder) is a :class:`~optimizer.errors.CaseError` naming the file and the fix.
* YAML: PyYAML's safe loader, except that a key given twice in one mapping is an error naming
  both lines (PyYAML keeps the last silently: ``max_new_sites`` 6 then 1 would solve with 1).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from .errors import CaseError, Problem

__all__ = ["UniqueKeyLoader", "check_nesting", "load_yaml", "read_case_text", "read_text_file"]

log = logging.getLogger(__name__)

MAX_CASE_BYTES = 10_000_000  # a case file is a page of YAML; the data sit in the files it names


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: PyYAML names it below
                continue
            if first is not None:
                raise ConstructorError(
                    f"while reading the mapping that starts at line {node.start_mark.line + 1}",
                    node.start_mark,
                    f"the key {key!r} is given twice (first at line {first.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


MAX_NESTING = 64  # a case file nests a few levels; more is a damaged or hostile file


def check_nesting(text: str, label: str) -> None:
    """Refuse YAML nested deeper than :data:`MAX_NESTING` brackets or indents (the parser would
    recurse thousands of levels), naming the line where it gets too deep."""
    depth = 0
    line = 1
    for ch in text:
        if ch in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise CaseError(
                    [
                        Problem(
                            f"{label} line {line}",
                            f"nested more than {MAX_NESTING} levels deep",
                            fix="a case file nests a few levels; check the brackets",
                        )
                    ]
                )
        elif ch in "]}":
            depth = max(0, depth - 1)
        elif ch == "\n":
            line += 1


def load_yaml(text: str) -> Any:
    """Parse YAML text with :class:`UniqueKeyLoader` (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=UniqueKeyLoader)


def read_text_file(path: Path, label: str, *, what: str = "file") -> str:
    """The text of ``path``: UTF-8 (BOM allowed), else GBK when it decodes as GBK; otherwise a
    :class:`CaseError` naming ``label`` and how to fix the file."""
    fix_enc = "save it as UTF-8 (in Notepad: Save as, Encoding UTF-8)"
    if path.is_dir():
        raise CaseError(
            [Problem(label, f"is a folder, not a {what}", fix=f"give the {what} inside it")]
        )
    try:
        if what == "case file" and path.stat().st_size > MAX_CASE_BYTES:
            raise CaseError(
                [
                    Problem(
                        label,
                        f"is {path.stat().st_size:,} bytes: too large for a case file",
                        fix="a case file names its data files; give the YAML case file",
                    )
                ]
            )
        data = path.read_bytes()
    except OSError as exc:
        raise CaseError(
            [Problem(label, f"cannot be read: {exc.strerror or exc}", fix="check the path")]
        ) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CaseError([Problem(label, f"is a UTF-16 text {what}", fix=fix_enc)])
    if b"\x00" in data:
        raise CaseError(
            [
                Problem(
                    label, f"is not a text {what} (it holds NUL bytes)", fix=f"give the YAML {what}"
                )
            ]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        text = data.decode("gbk")
    except UnicodeDecodeError:
        line = data[: utf8_error.start].count(b"\n") + 1
        raise CaseError(
            [
                Problem(
                    f"{label} line {line}",
                    "is neither UTF-8 nor GBK text",
                    got=data[utf8_error.start : utf8_error.start + 8],
                    fix=fix_enc,
                )
            ]
        ) from None
    log.warning("%s is not UTF-8; read it as GBK (save it as UTF-8 to silence this)", label)
    return text


def read_case_text(path: str | Path) -> str:
    """The text of a case file (see :func:`read_text_file`); a missing file is a CaseError."""
    p = Path(path)
    try:
        exists = p.exists()
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise CaseError(
            [Problem(str(p)[:200], f"cannot be read: {exc.strerror}", fix="check the path")]
        ) from None
    if not exists:
        raise CaseError(
            [
                Problem(
                    str(p), "case file not found", fix="check the path (e.g. configs/andorra.yaml)"
                )
            ]
        )
    return read_text_file(p, str(p), what="case file")


def yaml_problem(exc: yaml.YAMLError, label: str) -> Problem:
    """A YAML error as a Problem at the line where the broken construct starts (an unclosed
    quote is reported where it opens, not at the end of the file where PyYAML noticed)."""
    mark = getattr(exc, "problem_mark", None)
    start = getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if start is not None and context and "quoted" in context:
        mark, problem = start, f"{problem} ({context} that starts here)"
    where = f"{label} line {mark.line + 1}, column {mark.column + 1}" if mark else label
    fix = "check indentation and quoting"
    if "given twice" in problem:
        fix = "keep one of the two (YAML would otherwise silently use the last)"
    return Problem(where, f"not valid YAML: {problem}", fix=fix)


def yaml_mapping(text: str, label: str, *, start_from: str) -> dict[str, Any]:
    """The case YAML as a mapping; bad YAML or another top-level shape is a CaseError naming the
    line and column (``start_from`` names an example case to copy)."""
    check_nesting(text, label)  # thousands of nested brackets: named, not a RecursionError

    try:
        raw = load_yaml(text)  # a key given twice is an error, not "the last one wins"
    except yaml.YAMLError as exc:
        raise CaseError([yaml_problem(exc, label)]) from None
    if not isinstance(raw, dict):
        raise CaseError(
            [
                Problem(
                    label,
                    "a case file must be a YAML mapping of keys",
                    got=type(raw).__name__,
                    fix=f"start from {start_from}",
                )
            ]
        )
    return raw
