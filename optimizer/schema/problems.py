"""Pydantic validation errors as planner-readable Problems (file › field: what; fix)."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Problem

_FIX_BY_TYPE = {
    "extra_forbidden": "remove it or fix its spelling",
    "missing": "add this key",
    "greater_than": "give a positive number",
    "greater_than_equal": "give a number at or above the minimum",
    "less_than_equal": "give a share between 0 and 1 (e.g. 0.9 for 90%)",
    "float_parsing": "give a number",
    "int_parsing": "give a whole number",
    "int_from_float": "give a whole number",
    "bool_parsing": "give true or false",
    "string_type": "give text",
    "literal_error": "",
    "union_tag_invalid": "",
    "finite_number": "give a finite number",
    "too_short": "give at least one entry",
}


def _bound_fix(etype: str, ctx: dict[str, Any]) -> str:
    """The fix for a number out of its range, from the range itself (not a fixed text)."""
    for key, words in (("le", "at most"), ("lt", "below"), ("ge", "at least"), ("gt", "above")):
        if key in ctx and etype.startswith(("less", "greater")):
            limit = ctx[key]
            if key == "le" and limit == 1:
                return "give a share between 0 and 1 (e.g. 0.9 for 90%)"
            return f"give a number {words} {limit}"
    return ""


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The pydantic model class that owns the last key of ``loc`` (to list allowed keys)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, str) and part in _UNION_TAGS:
            continue  # a union member's tag (e.g. p_median), chosen in _unwrap
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                field = next(
                    (f for f in current.model_fields.values() if f.alias == str(part)), None
                )
            if field is None:
                return None
            current = _unwrap(field.annotation, loc, part)
        elif isinstance(part, int) or current is None:
            continue
        else:
            current = _unwrap(current, loc, part)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any, loc: Sequence[str | int], part: str | int) -> Any:
    origin = typing.get_origin(annotation)
    if origin is None:
        return annotation
    tags = {p for p in loc if isinstance(p, str)}
    for arg in typing.get_args(annotation):  # the member of a tagged union the error is in
        if isinstance(arg, type) and issubclass(arg, BaseModel) and "kind" in arg.model_fields:
            kinds = typing.get_args(arg.model_fields["kind"].annotation)
            if tags & set(map(str, kinds)):
                return arg
    for arg in typing.get_args(annotation):
        found = _unwrap(arg, loc, part)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    return None


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def pydantic_problems(exc: ValidationError, label: str, root: type[BaseModel]) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and _is_type_tag(p))]
        path = _dotted(loc)
        etype = err["type"]
        msg = err["msg"]
        fix = _bound_fix(etype, err.get("ctx") or {}) or _FIX_BY_TYPE.get(etype, "")
        got = err.get("input")
        if etype == "extra_forbidden":
            owner = _model_at(root, err["loc"])
            msg = "unknown key"
            if owner is not None:
                allowed = _allowed_keys(owner)
                close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
                fix = (f"did you mean '{close[0]}'? " if close else "") + (
                    "allowed keys here: " + ", ".join(allowed)
                )
            got = None
        elif etype == "missing":
            msg = "required key is missing"
            got = None
        elif etype.startswith("value_error"):
            msg = msg.removeprefix("Value error, ")
        if isinstance(got, dict) and etype not in ("union_tag_invalid",):
            got = None if etype == "model_type" else got
        problems.append(Problem(f"{label} › {path}" if path else label, msg, got, fix))
    return problems


def _is_type_tag(part: str) -> bool:
    """A union member or validator name pydantic puts into an error location."""
    return part in _UNION_TAGS or part.startswith(("function-", "constrained-", "dict[", "list["))


# pydantic inserts union member names into error locations; they mean nothing to a planner
_UNION_TAGS = {
    "p_median",
    "p_center",
    "lscp",
    "mclp",
    "psclp",
    "coverage",
    "float",
    "dict[str,float]",
    "dict[str,constrained-float]",
    "constrained-float",
    "int",
    "dict[str,constrained-int]",
    "dict[str,int]",
    "constrained-int",
    "literal['all']",
    "list[str]",
    "function-after[_one_threshold(), Standard]",
}


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
