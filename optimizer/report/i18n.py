"""Labels of the HTML reports in Chinese and English (``--lang zh|en``).

Chinese is the default; any key without a Chinese label falls back to English, and an unknown
key is shown as itself, so a new section can add its labels with :func:`add_labels` (or none).
"""

from __future__ import annotations

__all__ = ["LANGS", "Labels", "add_labels"]

LANGS = ("zh", "en")

_LABELS: dict[str, dict[str, str]] = {
    # page
    "report": {"zh": "规划方案报告", "en": "Plan report"},
    "compare": {"zh": "方案比较", "en": "Plan comparison"},
    "generated_offline": {
        "zh": "本页为独立离线文件：地图库与数据均已内嵌，无需联网。",
        "en": "Self-contained offline page: the map library and all data are embedded.",
    },
    "print": {"zh": "打印", "en": "Print"},
    # sections
    "summary": {"zh": "概要", "en": "Summary"},
    "certificate": {"zh": "求解证书", "en": "Solver certificate"},
    "map": {"zh": "地图", "en": "Map"},
    "norms": {"zh": "规范达标情况", "en": "Norm compliance"},
    "norms_county": {"zh": "全县指标", "en": "County-wide norms"},
    "norms_zones": {"zh": "分乡镇达标表", "en": "Compliance per township"},
    "charts": {"zh": "图表", "en": "Charts"},
    "sites": {"zh": "站点", "en": "Sites"},
    "travel_times": {"zh": "出行时间计算", "en": "Travel times"},
    "other_compliance": {"zh": "其他规范核查", "en": "Other compliance checks"},
    "notes": {"zh": "数据与说明", "en": "Data and notes"},
    "diagnosis": {"zh": "无解原因", "en": "Why no plan exists"},
    # certificate
    "status": {"zh": "状态", "en": "Status"},
    "objective": {"zh": "目标值", "en": "Objective"},
    "objective_meaning": {"zh": "目标", "en": "Objective meaning"},
    "best_bound": {"zh": "最优界", "en": "Best bound"},
    "gap": {"zh": "间隙", "en": "Gap"},
    "solver": {"zh": "求解器", "en": "Solver"},
    "time_limit": {"zh": "时间上限", "en": "Time limit"},
    "checked": {"zh": "已用原始数据复核", "en": "Checked on the raw data"},
    "secondary": {"zh": "第二阶段", "en": "Second stage"},
    "roads_checked": {"zh": "出行时间按路网独立复核", "en": "Travel times re-routed on the roads"},
    "roads_check_row": {
        "zh": "{table}：{pairs} 对（随机 {random}，阈值附近 {near}/{found}），最大偏差 {max} {unit}，"
        "平均 {mean}（容差 {tol}）；最差 {worst}",
        "en": "{table}: {pairs} pairs ({random} random, {near} of {found} near a threshold), "
        "max deviation {max} {unit}, mean {mean} (tolerance {tol}); worst {worst}",
    },
    "roads_not_checked": {
        "zh": "{table}：未复核（直接给出的出行时间表，无路网）",
        "en": "{table}: not checked (table given, no roads)",
    },
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "feasible_warning": {
        "zh": "求解在时间上限处停止：以下为已找到的最好方案，未证明最优，间隙见上。",
        "en": "The time limit stopped the search: this is the best plan found, not proven "
        "optimal; see the gap above.",
    },
    # summary
    "case": {"zh": "案例", "en": "Case"},
    "model": {"zh": "模型", "en": "Model"},
    "demand_points": {"zh": "需求点", "en": "Demand points"},
    "residents": {"zh": "居民", "en": "Residents"},
    "footfall": {"zh": "人流量（场所）", "en": "Footfall (venues)"},
    "footfall_share": {"zh": "场所人流覆盖比例", "en": "Footfall share"},
    "weight_note": {"zh": "人口说明", "en": "Population note"},
    "cost": {"zh": "费用", "en": "Cost"},
    "budget": {"zh": "预算", "en": "Budget"},
    "open": {"zh": "开放", "en": "open"},
    "new": {"zh": "新建", "en": "new"},
    "kept": {"zh": "保留", "en": "kept"},
    "closed": {"zh": "关闭", "en": "closed"},
    "existing": {"zh": "现有", "en": "existing"},
    "facility_type": {"zh": "设施类型", "en": "Facility type"},
    "standard": {"zh": "服务标准", "en": "Standard"},
    "threshold": {"zh": "阈值", "en": "Threshold"},
    "share": {"zh": "覆盖率", "en": "Share"},
    "covered": {"zh": "覆盖人口", "en": "Covered"},
    "target": {"zh": "目标", "en": "Target"},
    "met": {"zh": "达标", "en": "met"},
    "missed": {"zh": "未达标", "en": "missed"},
    "no_target": {"zh": "无目标", "en": "no target"},
    "source": {"zh": "依据", "en": "Source"},
    "coverage": {"zh": "覆盖情况", "en": "Coverage"},
    # norms
    "norm": {"zh": "规范", "en": "Norm"},
    "required": {"zh": "要求", "en": "Required"},
    "achieved": {"zh": "实际", "en": "Achieved"},
    "result": {"zh": "结果", "en": "Result"},
    "zone": {"zh": "乡镇", "en": "Township"},
    "name": {"zh": "名称", "en": "Name"},
    "solver_params": {
        "zh": "相对间隙 {gap}；线程 {threads}；随机种子 {seed}",
        "en": "relative MIP gap {gap}; threads {threads}; seed {seed}",
    },
    "fleet_size": {"zh": "救护车总数（设定）", "en": "Fleet size (set)"},
    "max_per_station": {"zh": "每站救护车上限", "en": "Max ambulances per station"},
    # norm ids written by other families' compliance tables (staffing)
    "norm_cuts": {"zh": "不裁员（岗位 ≥ 现有人员）", "en": "No forced layoffs"},
    "norm_gp_per_10k": {"zh": "每万人全科医生", "en": "GPs per 10,000 residents"},
    "norm_per_mille.min": {"zh": "{0} 千人指标下限", "en": "{0} posts per 1,000: minimum"},
    "norm_per_mille.max": {"zh": "{0} 千人指标上限", "en": "{0} posts per 1,000: maximum"},
    "norm_shares": {"zh": "{0} 岗位占比", "en": "{0}: share of posts"},
    "norm_pool": {"zh": "岗位总量", "en": "Total posts (pool)"},
    "norm_professional_min_share": {"zh": "专业技术岗位占比", "en": "Professional posts share"},
    "norm_public_health_min_share": {"zh": "公共卫生岗位占比", "en": "Public-health posts share"},
    "norm_annual_total": {"zh": "年度派驻总数", "en": "Stints per year"},
    "norm_host_capacity": {"zh": "驻点容量", "en": "Host capacity"},
    "norm_hospital_release": {"zh": "医院外派上限", "en": "Hospital release caps"},
    "norm_max_share_away": {"zh": "科室同时外派比例", "en": "Share of a department away"},
    "norm_max_travel_min": {"zh": "最长路程", "en": "Longest trip"},
    "norm_min_months_between_starts": {"zh": "两次派驻间隔", "en": "Months between stints"},
    "norm_stationed_per_host": {"zh": "驻点每月在岗医生", "en": "Doctors at each host every month"},
    "norm_tenure_months": {"zh": "派驻时长", "en": "Stint length"},
    # county capacity checks (``capacity_norms``, any case kind)
    "norm_capacity.cdc_staff": {"zh": "疾控人员（每万人）", "en": "CDC staff per 10,000"},
    "norm_capacity.infectious_disease_beds": {
        "zh": "传染病床位（每万人）",
        "en": "Infectious-disease beds per 10,000",
    },
    "norm_capacity.county_hospital_beds": {
        "zh": "县级医院床位（每千人）",
        "en": "County hospital beds per 1,000",
    },
    "norm_capacity.grassroots_reserved_hires": {
        "zh": "新招聘人员基层预留",
        "en": "New hires reserved for grassroots posts",
    },
    "lyr_roads": {"zh": "道路", "en": "Roads"},
    "norms_entities": {"zh": "逐机构核查（点击展开）", "en": "Checks per facility (click to open)"},
    "pct_points": {"zh": "个百分点", "en": "pt"},
    "bars_a_b": {"zh": "A；B 为蓝色", "en": "A; B blue"},
    "sense_min": {"zh": "最小化", "en": "min"},
    "sense_max": {"zh": "最大化", "en": "max"},
    "county": {"zh": "全县", "en": "County"},
    "facility": {"zh": "机构", "en": "Facility"},
    "kind_lscp": {"zh": "LSCP 集合覆盖", "en": "LSCP"},
    "kind_mclp": {"zh": "MCLP 最大覆盖", "en": "MCLP"},
    "kind_psclp": {"zh": "PSCLP 部分集合覆盖", "en": "PSCLP"},
    "kind_p_median": {"zh": "p-中位（p-median）", "en": "p-median"},
    "kind_p_center": {"zh": "p-中心（p-center）", "en": "p-center"},
    "kind_ems": {"zh": "120 急救站与救护车", "en": "120 EMS"},
    "kind_staffing_quota": {"zh": "编制测算", "en": "Staffing quota"},
    "kind_sent_down": {"zh": "人员下沉轮转", "en": "Sent-down rotation"},
    "total_time": {"zh": "总计", "en": "total"},
    "crs_note_plain": {
        "zh": "layers.gpkg 采用案例需求点的坐标系（{crs}）；geojson/ 为 WGS-84。",
        "en": "layers.gpkg is in the case's demand CRS ({crs}); geojson/ is WGS-84.",
    },
    "crs_note_offset": {
        "zh": "layers.gpkg 保留输入的 {crs} 坐标（自定义坐标系，无 EPSG 代码，PROJ 无法转换），只与 {crs} 底图（高德/腾讯/百度）对齐；layers_wgs84.gpkg 与 geojson/ 为 WGS-84。",
        "en": "layers.gpkg keeps the input's {crs} coordinates under a custom CRS (no EPSG code; PROJ cannot convert it): it aligns with {crs} basemaps (高德/腾讯/百度) only. layers_wgs84.gpkg and geojson/ are WGS-84.",
    },
    "road_attribution": {
        "zh": "道路数据 © OpenStreetMap 贡献者，ODbL 1.0（路网来自 OSM 时）。",
        "en": "Road data © OpenStreetMap contributors, ODbL 1.0 (where the network is from OSM).",
    },
    "zone_name": {"zh": "乡镇名称", "en": "Township name"},
    "population": {"zh": "人口", "en": "Population"},
    "zone_rule": {"zh": "分区规则", "en": "Zone rule"},
    "max_new_sites": {"zh": "新建数量上限", "en": "Max new sites"},
    "min_sites_in_zone": {"zh": "每乡镇至少站点数", "en": "Min sites per township"},
    "county_share": {"zh": "全县覆盖率", "en": "County share"},
    "zone_share": {"zh": "乡镇覆盖率", "en": "Township share"},
    "not_applicable": {"zh": "不适用", "en": "n/a"},
    "norms_met": {"zh": "达标", "en": "met"},
    "norms_met_total": {"zh": "达标规范数", "en": "Norms met"},
    "zones_unchanged": {
        "zh": "个乡镇覆盖无变化，未打印",
        "en": "townships without change not printed",
    },
    "settings_diff": {"zh": "两方案的设定差异", "en": "Differences in the plans' settings"},
    "norms_missed": {"zh": "未达标", "en": "missed"},
    "zones_approx": {
        "zh": "乡镇边界为近似（非法定边界）",
        "en": "township boundaries are approximate (not legal boundaries)",
    },
    # charts
    "chart_coverage": {"zh": "各服务标准覆盖率", "en": "Coverage by standard"},
    "chart_zone_share": {"zh": "各乡镇覆盖率", "en": "Share per township"},
    "all_zones_full": {
        "zh": "所有乡镇均为 100% 的标准",
        "en": "Standards at 100% in every township",
    },
    "lowest_zones": {"zh": "覆盖率最低的乡镇", "en": "lowest townships"},
    # map
    "map_hint": {
        "zh": "勾选右上角图层；点击要素查看详情。底图：",
        "en": "Toggle layers top right; click a feature for details. Basemap: ",
    },
    "basemap_none": {"zh": "无（离线）", "en": "none (offline)"},
    "basemap_osm": {"zh": "OpenStreetMap（需联网）", "en": "OpenStreetMap (needs internet)"},
    "basemap_tianditu": {
        "zh": "天地图（需联网与密钥）",
        "en": "Tianditu (needs internet and a key)",
    },
    "lyr_zones": {"zh": "乡镇", "en": "Townships"},
    "lyr_candidates": {"zh": "候选站点（未选）", "en": "Candidates (not chosen)"},
    "lyr_chosen": {"zh": "选定站点", "en": "Chosen sites"},
    "lyr_demand": {"zh": "居民点", "en": "Demand"},
    "lyr_catchments": {"zh": "服务范围", "en": "Catchments"},
    "lyr_uncovered": {"zh": "未覆盖居民点", "en": "Uncovered demand"},
    "covered_yes": {"zh": "已覆盖", "en": "covered"},
    "covered_no": {"zh": "未覆盖", "en": "not covered"},
    "not_subject": {"zh": "不适用", "en": "not subject"},
    "no_map": {
        "zh": "此运行没有地图图层（无坐标或未生成 geojson/）。",
        "en": "This run has no map layers (no coordinates, or no geojson/ folder).",
    },
    "site": {"zh": "站点", "en": "Site"},
    "nearest": {"zh": "最近站点", "en": "Nearest site"},
    "minutes": {"zh": "分钟", "en": "min"},
    "weight": {"zh": "人口", "en": "Residents"},
    "status_site": {"zh": "状态", "en": "Status"},
    "residents_nearest": {"zh": "就近服务人口", "en": "Residents served (nearest)"},
    "area_km2": {"zh": "面积 km²", "en": "Area km²"},
    "residents_within": {"zh": "范围内人口", "en": "Residents within"},
    "method": {"zh": "方法", "en": "Method"},
    # sites section
    "new_sites": {"zh": "新建站点", "en": "New sites"},
    "closed_sites": {"zh": "关闭站点", "en": "Closed sites"},
    "none": {"zh": "无", "en": "none"},
    # travel times
    "table": {"zh": "出行时间表", "en": "Table"},
    "network": {"zh": "路网", "en": "Network"},
    "mode": {"zh": "方式", "en": "Mode"},
    "direction": {"zh": "方向", "en": "Direction"},
    "pairs": {"zh": "配对数", "en": "Pairs"},
    "snapped": {"zh": "吸附点", "en": "Snapped"},
    "max_snap_m": {"zh": "最大吸附距离 m", "en": "Max snap m"},
    "unreachable": {"zh": "不可达", "en": "Unreachable"},
    # notes
    "files": {"zh": "输出文件", "en": "Output files"},
    "layers_crs": {"zh": "图层坐标系", "en": "Layer CRS"},
    "attribution": {"zh": "数据来源", "en": "Attribution"},
    "leaflet_licence": {
        "zh": "地图库 Leaflet 1.9.3 (BSD-2-Clause) 已内嵌，许可见页面源码。",
        "en": "Map library Leaflet 1.9.3 (BSD-2-Clause) is embedded; licence in the page source.",
    },
    # compare
    "plan_a": {"zh": "方案 A", "en": "Plan A"},
    "plan_b": {"zh": "方案 B", "en": "Plan B"},
    "delta": {"zh": "变化 (B−A)", "en": "Change (B−A)"},
    "totals": {"zh": "总体对比", "en": "Totals"},
    "sites_changes": {"zh": "站点变化", "en": "Site changes"},
    "added": {"zh": "新增", "en": "added"},
    "removed": {"zh": "取消", "en": "removed"},
    "kept_both": {"zh": "两方案均有", "en": "kept (in both)"},
    "coverage_change": {"zh": "覆盖变化", "en": "Coverage change"},
    "zones_change": {"zh": "分乡镇覆盖变化", "en": "Coverage change per township"},
    "villages_gain": {"zh": "获得覆盖的居民点", "en": "Demand points gaining"},
    "villages_lose": {"zh": "失去覆盖的居民点", "en": "Demand points losing"},
    "gained": {"zh": "获得", "en": "gained"},
    "lost": {"zh": "失去", "en": "lost"},
    "norms_side_by_side": {"zh": "规范达标对比", "en": "Norms, side by side"},
    "mismatch": {"zh": "两次运行不一致之处", "en": "What does not match between the runs"},
    "same_case": {"zh": "两次运行为同一案例数据。", "en": "Both runs use the same case data."},
    "staff": {"zh": "编制/人员", "en": "Staff posts"},
    "sites_open": {"zh": "开放站点", "en": "Open sites"},
    "sites_new": {"zh": "新建站点", "en": "New sites"},
    "lyr_added": {"zh": "B 新增站点", "en": "Added in B"},
    "lyr_removed": {"zh": "B 取消站点", "en": "Removed in B"},
    "lyr_kept": {"zh": "两方案共有站点", "en": "In both plans"},
    "lyr_gain": {"zh": "获得覆盖", "en": "Gains coverage"},
    "lyr_lose": {"zh": "失去覆盖", "en": "Loses coverage"},
    "and_more": {"zh": "等，共", "en": "and more, total"},
    "print_map_note": {
        "zh": "打印版为静态示意图；交互地图见屏幕版。",
        "en": "Printed: static overview; the interactive map is on screen.",
    },
}


def add_labels(labels: dict[str, dict[str, str]]) -> None:
    """Register labels for a new section (``{key: {"en": ..., "zh": ...}}``)."""
    for key, texts in labels.items():
        _LABELS.setdefault(key, {}).update(texts)


class Labels:
    """``labels("key")`` in the chosen language, falling back to English, then to the key."""

    def __init__(self, lang: str = "zh") -> None:
        if lang not in LANGS:
            raise ValueError(f"--lang must be one of {', '.join(LANGS)} (got {lang!r})")
        self.lang = lang

    def __call__(self, key: str) -> str:
        texts = _LABELS.get(key)
        if texts is None:
            return key
        return texts.get(self.lang) or texts.get("en") or key

    def norm(self, norm_id: str, label: str | None = None) -> str:
        """What a norm is, for people: its catalogue label (``per_mille[thc].min`` -> "thc
        千人指标下限"), else its generated label through :meth:`text`, never a raw key."""
        import re

        m = re.fullmatch(r"(\w+)\[(.+)\](?:\.(\w+))?", norm_id)
        if m:
            key, arg = (f"norm_{m[1]}.{m[3]}" if m[3] else f"norm_{m[1]}"), m[2]
        else:
            key, arg = f"norm_{norm_id}", ""
        if key in _LABELS:
            return self(key).format(arg)
        if label and label != norm_id:
            return self.text(label)
        return self.text(norm_id)

    def text(self, phrase: object) -> str:
        """A generated English phrase of ``solution.json`` (model meaning, norm label, status)
        in the page's language (:func:`optimizer.report.phrases.zh_phrase` in ``zh``)."""
        if phrase is None:
            return ""
        from .phrases import EN_WORDS, zh_phrase

        if self.lang != "zh":
            return EN_WORDS.get(str(phrase), str(phrase))
        return zh_phrase(str(phrase))
