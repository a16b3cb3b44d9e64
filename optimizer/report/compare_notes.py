"""What ``compare`` says before its tables: which settings differ, what does not match, and
whether the two runs are of the same model kind at all.

* Settings: every key of the two runs' ``model`` and ``solver`` blocks (nested keys flattened,
  lists of named items keyed by name: ``standards[walk15].minutes``) that differs, as readable
  ``label: A → B`` lines, with a label for every key a case file commonly sets (no raw keys).
* Mismatches: data that is not the same (cases, input files, standards, ids, weights, types),
  stored as ``(key, fields)`` and worded in the page's language.
* Model kinds: runs of different kinds (an MCLP and a p-median) minimise or maximise different
  things, so their objectives are shown side by side but never subtracted.
"""

from __future__ import annotations

from typing import Any

from .i18n import Labels, add_labels

__all__ = ["Note", "kinds_differ", "mismatch_text", "readable", "setting_lines", "settings_diff"]

Note = tuple[str, dict[str, Any]]
"""A mismatch: label key and the values its text needs."""

add_labels(
    {
        "mm_cases": {"zh": "不同案例：A = {a}，B = {b}", "en": "different cases: A = {a}, B = {b}"},
        "mm_inputs": {"zh": "输入文件不同：{files}", "en": "input files differ: {files}"},
        "mm_std_only": {
            "zh": "仅在 {side} 中的服务标准（未比较）：{names}",
            "en": "standards only in {side} (not compared): {names}",
        },
        "mm_std_differs": {
            "zh": "服务标准 '{name}' 不同：A {a}，B {b}",
            "en": "standard '{name}' differs: A {a}, B {b}",
        },
        "mm_only_demand": {
            "zh": "{n} 个需求点仅在 {side} 中：{ids}",
            "en": "{n} demand points only in {side}: {ids}",
        },
        "mm_only_sites": {
            "zh": "{n} 个站点仅在 {side} 中：{ids}",
            "en": "{n} sites only in {side}: {ids}",
        },
        "mm_only_zones": {
            "zh": "{n} 个乡镇仅在 {side} 中：{ids}",
            "en": "{n} townships only in {side}: {ids}",
        },
        "mm_weights": {
            "zh": "{n} 个需求点的人口不同：{ids}",
            "en": "{n} demand points have different weights: {ids}",
        },
        "mm_types": {
            "zh": "{n} 个站点的设施类型不同：{ids}",
            "en": "{n} sites have different facility types: {ids}",
        },
        "kinds_differ": {
            "zh": "两个方案的模型不同（A：{a}；B：{b}），目标值含义不同，不作差值比较；"
            "请比较下表中的站点、覆盖与规范达标。",
            "en": "The plans are of different model kinds (A: {a}; B: {b}): their objectives "
            "measure different things and are not subtracted; compare the sites, coverage and "
            "norms below.",
        },
        "set_case_file": {"zh": "案例文件", "en": "Case file"},
        "set_contents_differ": {"zh": "内容不同", "en": "contents differ"},
        "set_model": {"zh": "模型", "en": "Model"},
        "set_solver": {"zh": "求解器", "en": "Solver"},
        "set_kind": {"zh": "模型类型", "en": "model kind"},
        "set_objective": {"zh": "目标", "en": "objective"},
        "set_p": {"zh": "站点数 p", "en": "number of sites p"},
        "set_max_new_sites": {"zh": "新建数量上限", "en": "max new sites"},
        "set_max_new_stations": {"zh": "新建急救站上限", "en": "max new stations"},
        "set_budget": {"zh": "预算", "en": "budget"},
        "set_existing": {"zh": "现有设施", "en": "existing facilities"},
        "set_zone_rules": {"zh": "分区规则", "en": "zone rules"},
        "set_standards": {"zh": "服务标准", "en": "standard"},
        "set_minutes": {"zh": "分钟", "en": "minutes"},
        "set_metres": {"zh": "米", "en": "metres"},
        "set_min_share": {"zh": "目标比例", "en": "target share"},
        "set_zone_min_share": {"zh": "乡镇目标比例", "en": "township target share"},
        "set_weight": {"zh": "权重", "en": "weight"},
        "set_matrix": {"zh": "出行时间表", "en": "travel-time table"},
        "set_facility_types": {"zh": "设施类型", "en": "facility types"},
        "set_source": {"zh": "依据", "en": "source"},
        "set_fleet": {"zh": "救护车", "en": "fleet"},
        "set_fleet_size": {"zh": "救护车总数", "en": "fleet size"},
        "set_max_per_station": {"zh": "每站上限", "en": "max per station"},
        "set_negative_pressure_share": {"zh": "负压比例", "en": "negative-pressure share"},
        "set_response_min": {"zh": "响应时间标准", "en": "response standard"},
        "set_dispatch_min": {"zh": "调度时间", "en": "dispatch time"},
        "set_stations_per_zone": {"zh": "每乡镇急救站数", "en": "stations per township"},
        "set_capacity": {"zh": "容量", "en": "capacity"},
        "set_method": {"zh": "求解方法", "en": "method"},
        "set_k_nearest": {"zh": "每点候选站点数 k", "en": "nearest sites per point (k)"},
        "set_weighted": {"zh": "人口加权", "en": "population-weighted"},
        "set_classes": {"zh": "需求类别", "en": "demand classes"},
        "set_backend": {"zh": "求解器", "en": "backend"},
        "set_time_limit_s": {"zh": "时间上限（秒）", "en": "time limit (s)"},
        "set_mip_rel_gap": {"zh": "相对间隙", "en": "relative MIP gap"},
        "set_threads": {"zh": "线程", "en": "threads"},
        "set_seed": {"zh": "随机种子", "en": "seed"},
    }
)

_SKIP = {"version", "message", "method", "warm_start", "benders", "runtime_s"}
"""Solver fields that describe the solve, not a setting (shown in the certificate)."""


def _flatten(obj: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(obj, list) and obj and all(isinstance(v, dict) and "name" in v for v in obj):
        for v in obj:
            _flatten({k: x for k, x in v.items() if k != "name"}, f"{prefix}[{v['name']}]", out)
    else:
        out[prefix] = obj


def settings_diff(sa: dict[str, Any], sb: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(key, A, B)`` for every setting that differs (``model.budget``, ``solver.backend``,
    ``case_file``), in a stable order."""
    rows: list[tuple[str, Any, Any]] = []
    ca, cb = sa.get("case") or {}, sb.get("case") or {}
    if ca.get("sha256") != cb.get("sha256"):
        rows.append(("case_file", ca.get("file"), cb.get("file")))
    for block in ("model", "solver"):
        fa: dict[str, Any] = {}
        fb: dict[str, Any] = {}
        _flatten(sa.get(block) or {}, block, fa)
        _flatten(sb.get(block) or {}, block, fb)
        for key in list(dict.fromkeys([*fa, *fb])):
            if key.split(".")[-1] in _SKIP and block == "solver":
                continue
            if fa.get(key) != fb.get(key):
                rows.append((key, fa.get(key), fb.get(key)))
    return rows


def readable(v: Any, t: Labels) -> str:
    """A setting's value for people: ``clinic 6, ems 2`` for a mapping, lists joined, '-' for
    none; phrases such as ``min_cost`` in words."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return t("yes") if v else t("no")
    if isinstance(v, float):
        return f"{v:,.10g}"
    if isinstance(v, dict):
        return ", ".join(f"{k} {readable(x, t)}" for k, x in v.items()) or "-"
    if isinstance(v, (list, tuple)):
        return "; ".join(readable(x, t) for x in v) or "-"
    return t.text(str(v))


def _key_label(key: str, t: Labels) -> str:
    """``model.standards[walk15].minutes`` -> ``模型 › 服务标准 walk15 › 分钟``."""
    parts = []
    for piece in key.split("."):
        name, _, arg = piece.partition("[")
        label = t(f"set_{name}")
        label = label if label != f"set_{name}" else name.replace("_", " ")
        parts.append(f"{label} {arg.rstrip(']')}" if arg else label)
    return " › ".join(parts)


def setting_lines(diff: list[tuple[str, Any, Any]], t: Labels) -> list[str]:
    """``label: A → B`` lines (the case file line says the contents differ)."""
    out = []
    for key, va, vb in diff:
        if key == "case_file":
            out.append(
                f"{t('set_case_file')}: {va} → {vb} ({t('set_contents_differ')})"
                if va != vb
                else f"{t('set_case_file')}: {va} ({t('set_contents_differ')})"
            )
        elif key.endswith(".kind"):
            out.append(f"{_key_label(key, t)}: {t(f'kind_{va}')} → {t(f'kind_{vb}')}")
        else:
            out.append(f"{_key_label(key, t)}: {readable(va, t)} → {readable(vb, t)}")
    return out


def mismatch_text(note: Note, t: Labels) -> str:
    key, fields = note
    return t(key).format(**fields)


def kinds_differ(sa: dict[str, Any], sb: dict[str, Any], t: Labels) -> str | None:
    """The statement shown when the two runs are of different model kinds, else None."""
    from .format import run_kind

    ka, kb = run_kind(sa), run_kind(sb)
    if ka == kb:
        return None
    return t("kinds_differ").format(a=t(f"kind_{ka}"), b=t(f"kind_{kb}"))
