"""``results.xlsx``: every table of a run (each CSV) as one sheet of one Excel workbook.

Planners open the workbook instead of a dozen CSVs. In ``zh`` the sheets and headers are Chinese
(``需求点``, ``站点编号``...); the first sheet ``说明`` / ``about`` lists every sheet with its CSV
file and every column with its CSV header, so a figure in Excel can be traced to the CSV. Values
are the CSV's own (ids stay text), so the workbook and the CSVs never disagree.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from .atomic import StagedOutput, atomic_write

__all__ = ["column_label", "sheet_label", "workbook_bytes", "write_workbook"]

_SHEETS = {
    "demand": ("需求点", "demand"),
    "sites": ("站点", "sites"),
    "zones": ("乡镇", "zones"),
    "posts": ("岗位", "posts"),
    "compliance": ("规范核查", "compliance"),
    "calendar": ("排班日历", "calendar"),
    "host_coverage": ("驻点覆盖", "host coverage"),
    "release": ("派出单位", "release"),
    "reserved_hires": ("基层预留招聘", "reserved hires"),
    "batch": ("批量运行", "batch"),
    "frontier": ("权衡曲线", "frontier"),
    "sites_diff": ("站点差异", "sites diff"),
    "demand_diff": ("需求点差异", "demand diff"),
    "zones_diff": ("乡镇差异", "zones diff"),
    "norms": ("规范对比", "norms"),
    "posts_diff": ("岗位差异", "posts diff"),
    "host_coverage_diff": ("驻点在岗差异", "host coverage diff"),
}

_EXACT = {
    "demand_id": "需求点编号",
    "site_id": "站点编号",
    "zone_id": "乡镇编号",
    "name": "名称",
    "zone": "乡镇编号",
    "zone_name": "乡镇名称",
    "kind": "类型",
    "class": "类别",
    "weight": "人口/权重",
    "population": "人口",
    "x": "经度/x",
    "y": "纬度/y",
    "facility_type": "设施类型",
    "existing": "现有",
    "cost": "费用",
    "chosen": "选中",
    "open": "开设",
    "status": "状态",
    "dominated_by": "被其支配",
    "build_phase": "建设批次",
    "residents_nearest": "最近服务居民",
    "assigned_site": "分配站点",
    "assigned_site_name": "分配站点名称",
    "split": "分流",
    "demand_points": "需求点数",
    "points": "需求点数",
    "residents_assigned": "分配居民",
    "capacity": "容量",
    "worst_demand_id": "最远需求点",
    "worst_demand_id_name": "最远需求点名称",
    "unserved_points": "未服务需求点",
    "covered": "覆盖",
    "ambulances_within": "范围内救护车",
    "expected_coverage": "期望覆盖",
    "nearest_station": "最近急救站",
    "nearest_station_name": "最近急救站名称",
    "travel_min": "出行时间(分钟)",
    "response_min": "响应时间(分钟)",
    "standard_min": "标准(分钟)",
    "station_m": "至急救站距离(米)",
    "ambulances": "救护车",
    "negative_pressure": "负压救护车",
    "stations": "急救站",
    "covered_share": "覆盖比例",
    "expected_share": "期望覆盖比例",
    "mean_response_min": "平均响应(分钟)",
    "worst_response_min": "最长响应(分钟)",
    "required_stations": "要求急救站数",
    "met_stations": "急救站数达标",
    "required_ems": "要求覆盖比例",
    "met_ems": "覆盖达标",
    "approximate": "近似边界",
    "geometry_source": "边界来源",
    "unit": "单位",
    "standard": "服务标准",
    "threshold": "阈值",
    "in_a": "在方案A",
    "in_b": "在方案B",
    "change": "变化",
    "norm": "规范",
    "scope": "范围",
    "required": "要求",
    "achieved": "实际",
    "met": "达标",
    "source": "依据",
    "reason": "原因",
    "detail": "说明",
    "case": "案例",
    "error": "错误",
    "objective": "目标值",
    "best_bound": "最优界",
    "gap": "间隙",
    "folder": "文件夹",
    "parameter": "参数",
    "value": "取值",
    # staffing quotas (编制)
    "facility_id": "机构编号",
    "type": "类型",
    "remote": "偏远",
    "min_posts": "标准下限",
    "max_posts": "标准上限",
    "posts_total": "编制合计",
    "posts_per_mille": "每千人编制",
    "current_total": "现有合计",
    "need_total": "需求合计",
    "facility_name": "机构名称",
    "category": "类别",
    "vacancies": "空编数",
    "reserved_hires": "预留招聘人数",
    "service_years": "基层服务年限",
    # sent-down rotations (下沉)
    "rule": "规则",
    "doctor_id": "医生编号",
    "hospital": "派出医院",
    "specialty": "专科",
    "host_id": "驻点编号",
    "host_name": "驻点名称",
    "host_type": "驻点类型",
    "start_month": "开始月份",
    "end_month": "结束月份",
    "start": "开始月序",
    "months": "月数",
    "months_present": "在岗月数",
    "doctor_months": "医生·月",
    "need_doctor_months": "需求医生·月",
    "unmet_doctor_months": "缺口医生·月",
    "residents_within_circle": "服务圈内居民",
    "department_staff": "科室人数",
    "doctors_listed": "名单医生数",
    "max_away_allowed": "最多同时外派",
    "max_away": "实际最多外派",
    "peak_month": "高峰月份",
    "doctor_months_away": "外派医生·月",
    "stints": "派驻次数",
    "stints_started_year1": "首年开始派驻",
    "compliant": "达标",
    # sweeps
    "point": "序号",
    "seconds": "秒",
    "monotone": "单调",
}
_CATEGORIES = {
    "professional": "专业技术",
    "public_health": "公共卫生",
    "gp": "全科医生",
    "nursing": "护理",
    "other": "其他",
    "village_doctor": "乡村医生",
}
_PATTERNS = (
    (r"^posts_(.+)$", "编制·{0}"),
    (r"^current_(.+)$", "现有·{0}"),
    (r"^need_(.+)$", "需求·{0}"),
    (r"^covered_(.+)$", "覆盖·{0}"),
    (r"^share_(.+)_change$", "覆盖比例变化·{0}"),
    (r"^share_(.+)$", "覆盖比例·{0}"),
    (r"^required_(.+)$", "要求比例·{0}"),
    (r"^met_mean_response_(.+)$", "平均响应达标·{0}"),
    (r"^met_(.+)$", "达标·{0}"),
    (r"^residents_within_(.+)$", "范围内居民·{0}"),
    (r"^nearest_(.+)_(min|m)$", "最近{0}({1})"),
    (r"^nearest_(.+)_name$", "最近{0}名称"),
    (r"^nearest_(.+)$", "最近{0}"),
    (r"^sites_(.+)$", "站点数·{0}"),
    (r"^open_(.+)$", "开设·{0}"),
    (r"^new_(.+)$", "新建·{0}"),
    (r"^per10k_(.+)$", "每万人·{0}"),
    (r"^mean_travel_(min|m)$", "平均出行({0})"),
    (r"^worst_travel_(min|m)$", "最远出行({0})"),
    (r"^travel_(min|m)$", "出行({0})"),
    (r"^mean_response_(.+)_min$", "平均响应·{0}(分钟)"),
    (r"^(gained|lost)_(points|residents)_(.+)$", "{0}{1}·{2}"),
    (r"^(.+)_(a|b)$", "{0}·方案{1}"),
    (r"^(.+)_change$", "{0}·变化"),
)
_UNITS = {"min": "分钟", "m": "米", "gained": "新增", "lost": "失去"}
_UNITS |= {"points": "需求点", "residents": "居民", "a": "A", "b": "B"} | _CATEGORIES


def column_label(column: str, lang: str) -> str:
    """A CSV header as a workbook header: Chinese in ``zh`` (standard and type names kept)."""
    if lang != "zh":
        return column
    if column in _EXACT:
        return _EXACT[column]
    for pattern, text in _PATTERNS:
        m = re.match(pattern, column)
        if m:
            parts = [_UNITS.get(g, g) for g in m.groups()]
            parts = [column_label(p, lang) if p in _EXACT else p for p in parts]
            return text.format(*parts)
    return column


def sheet_label(file_name: str, lang: str) -> str:
    """Sheet name of a CSV (<= 31 characters, Excel's limit)."""
    stem = Path(file_name).name.removesuffix(".csv")
    zh, en = _SHEETS.get(stem, (stem, stem))
    return (zh if lang == "zh" else en)[:31]


def _about(tables: dict[str, pd.DataFrame], sheets: list[str], lang: str) -> pd.DataFrame:
    rows = []
    for (name, frame), sheet in zip(tables.items(), sheets, strict=True):
        for col in frame.columns:
            rows.append((sheet, name, column_label(str(col), lang), str(col)))
    head = (
        ("工作表", "CSV 文件", "列名", "CSV 列名")
        if lang == "zh"
        else ("sheet", "CSV file", "column", "CSV column")
    )
    return pd.DataFrame(rows, columns=list(head))


def workbook_bytes(tables: dict[str, pd.DataFrame], *, lang: str = "zh") -> bytes:
    """The workbook of ``tables`` ({csv name: frame}) as bytes (openpyxl)."""
    sheets: list[str] = []
    for name in tables:
        label = sheet_label(name, lang)
        k = 2
        while label in sheets:  # two files of the same stem in sub-folders
            label = f"{sheet_label(name, lang)[:28]}~{k}"
            k += 1
        sheets.append(label)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        about = "说明" if lang == "zh" else "about"
        _about(tables, sheets, lang).to_excel(xl, sheet_name=about, index=False)
        for (_, frame), sheet in zip(tables.items(), sheets, strict=True):
            shown = frame.rename(columns={c: column_label(str(c), lang) for c in frame.columns})
            shown.to_excel(xl, sheet_name=sheet, index=False)
            ws = xl.sheets[sheet]
            ws.freeze_panes = "B2"
            for k, col in enumerate(shown.columns, start=1):
                width = min(max(len(str(col)) * 2, 8), 40)
                ws.column_dimensions[ws.cell(row=1, column=k).column_letter].width = width
        props = xl.book.properties
        props.created = props.modified = FIXED_TIME
        props.creator = props.lastModifiedBy = "county-health-siting"
    return _fixed_zip(buf.getvalue())


FIXED_TIME = datetime.datetime(2000, 1, 1)
"""Workbook and zip-entry timestamps: fixed, so two identical runs give identical bytes."""


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every entry's timestamp fixed (openpyxl stamps the current time)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps 'modified' when saving
                body = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2000-01-01T00:00:00Z\g<2>",
                    body,
                )
            dst.writestr(fixed, body)
    return buf.getvalue()


def write_workbook(
    out: StagedOutput, *, lang: str = "zh", name: str = "results.xlsx", data: bytes | None = None
) -> None:
    """``name`` with every table staged so far (:attr:`StagedOutput.tables`), or ``data``
    (:func:`workbook_bytes` of them, composed earlier)."""
    if data is None:
        if not out.tables:
            return
        data = workbook_bytes(out.tables, lang=lang)
    with atomic_write(out.path(name), "wb") as fh:
        fh.write(data)
