"""Chinese for the generated English phrases of a run (model meanings, norm labels, statuses).

``solution.json`` keeps its English phrases (they are the file's contract and what ``en`` pages
show); a ``zh`` page passes each one through :func:`zh_phrase`, which matches it against the
patterns below and fills in the parts that are data (standard names, numbers, units). A phrase
no pattern matches is shown as it is, and the report-language test names it, so a new English
phrase cannot slip into a Chinese page unnoticed.
"""

from __future__ import annotations

import re

__all__ = ["EN_WORDS", "PHRASES", "zh_phrase", "zh_unit"]

EN_WORDS = {
    "min_cost": "least cost",
    "max_coverage": "most residents covered",
    "min_sites": "fewest sites",
    "demand_to_site": "demand → site",
    "site_to_demand": "site → demand",
}
"""Configuration values an English page shows in words (no raw keys in either language)."""

_UNITS = {"min": "分钟", "m": "米", "km": "公里", "yuan": "元", "s": "秒", "h": "小时"}
_WORDS = {
    "urban": "城区",
    "rural": "农村",
    "time": "时间",
    "distance": "距离",
    "walk": "步行",
    "drive": "驾车",
    "ebike": "电动自行车",
    "bike": "自行车",
    "demand_to_site": "需求点→站点",
    "symmetric": "双向相同",
    "site_to_demand": "站点→需求点",
    "max": "最大",
    "min": "最小",
    "optimal": "最优",
    "feasible": "可行（未证明最优）",
    "infeasible": "无可行方案",
    "no_solution": "限时内无解",
    "error": "错误",
    "keep": "保留",
    "free": "可关闭",
    "compact": "紧凑模型",
    "benders": "Benders 分解",
    "sites": "站点",
    "clinic": "诊所",
    "auto": "自动",
    "gained": "获得覆盖",
    "lost": "失去覆盖",
    "binary_search": "二分搜索",
    "lagrangian": "拉格朗日松弛",
    "ignore": "忽略",
    "enforce": "强制",
    "min_cost": "最小费用",
    "max_coverage": "最大覆盖",
    "min_sites": "最少站点",
    "new": "新建",
    "kept": "保留",
    "closed": "关闭",
    "not chosen": "未选",
}


def zh_unit(unit: str) -> str:
    """``min`` -> 分钟 ... (unknown units unchanged)."""
    return _UNITS.get(unit, unit)


def _w(text: str) -> str:
    return _WORDS.get(text, text)


def _thr(text: str) -> str:
    """``15 min`` -> ``15 分钟``; ``11 min (urban)/15 min (rural)`` likewise."""
    return re.sub(
        r"(\d[\d,.]*) ?(min|km|m)\b(?: \((\w+)\))?",
        lambda m: f"{m[1]} {zh_unit(m[2])}" + (f"（{_w(m[3])}）" if m[3] else ""),
        text,
    )


PHRASES: list[tuple[str, str]] = [
    # statuses
    (r"OPTIMAL \(proven\)", "最优（已证明）"),
    (r"FEASIBLE \(.*\)", "可行：达到求解上限，未证明最优"),
    (r"FEASIBLE at limit.*", "可行：达到求解上限，未证明最优"),
    (r"FEASIBLE", "可行：达到求解上限，未证明最优"),
    (r"INFEASIBLE.*", "无可行方案"),
    (r"NO[_ ]SOLUTION.*", "限时内未找到方案"),
    (r"ERROR.*", "求解出错"),
    (r"UNBOUNDED.*", "无界（模型缺少约束）"),
    (r"Optimal", "最优"),
    (r"Time limit reached", "达到时间上限"),
    (r"(\d+) independent blocks: (.*)", "{0} 个独立子问题：{1*}"),
    # objective meanings (coverage)
    (r"minimise the number of new sites", "最小化新建站点数"),
    (
        r"minimise cost of new sites plus net closure cost \((.+)\)",
        "最小化新建费用加净关闭费用（{0u}）",
    ),
    (r"maximise, summed over (\d+) phases, (.+)", "最大化 {0} 期之和：{1*}"),
    (r"([\d.]+) x residents within '(.+?)'", "{0} × '{1}' 内居民"),
    # siting
    (
        r"minimise residents' total \(so mean\) trip to their site, weight x (\w+)",
        "最小化居民到所属站点的出行总量（即平均出行），人口 × {0u}",
    ),
    (
        r"total population-weighted travel \(weight x (\w+)\) to the assigned site",
        "到所分配站点的人口加权出行总量（人口 × {0u}）",
    ),
    (
        r"minimise the worst residents x trip \((\w+)\) to the nearest open site",
        "最小化人口加权的最远出行（{0u}）",
    ),
    (
        r"minimise the worst trip \((\w+)\) from a demand point to its nearest open site",
        "最小化需求点到最近站点的最远出行（{0u}）",
    ),
    (r"worst trip \((\w+)\).*", "最远出行（{0u}）"),
    (
        r"worst travel \((\w+)\) from a demand point to its nearest open site",
        "需求点到最近站点的最远出行（{0u}）",
    ),
    (r"binary search over LSCP steps", "按 LSCP 二分搜索"),
    (
        r"midpoint of the per-mille norm × service population, split over categories by (?:need_share|their need shares)",
        "千人指标区间中值 × 服务人口，按各类别需求占比分配",
    ),
    (r"stage (\d+): (.+?); stage (\d+): (.+)", "第 {0} 阶段：{1p}；第 {2} 阶段：{3p}"),
    (
        r">= 1 ambulance per (\S+) residents \((\S+) residents\)",
        "每 {0} 居民至少 1 辆救护车（{1} 居民）",
    ),
    (r"new 120 stations", "新建 120 急救站数"),
    # 120 EMS
    (
        r"maximise expected residents covered \(MEXCLP, busy fraction q\)",
        "最大化期望覆盖居民（MEXCLP，车辆繁忙率 q）",
    ),
    (r"maximise residents covered once and twice \(BACOP\)", "最大化一次与二次覆盖居民（BACOP）"),
    (r"maximise residents within the 120 standard", "最大化 120 标准内居民"),
    (
        r"minimise the cost of stations and ambulances meeting the norms",
        "满足规范时最小化急救站与救护车费用",
    ),
    # staffing
    (
        r"weighted shortfall of posts against need \((.+)\); then, lexicographically, posts moved "
        r"from today",
        "岗位相对需求的加权缺口（需求依据：{0p}）；其次最小化相对现状调动的岗位",
    ),
    (
        r"weighted resident-months within a host's service circle with the specialty present, "
        r"minus travel, shortfall and fairness penalties",
        "专科在岗时驻点服务圈内的加权居民·月，减去路程、缺口与公平性惩罚",
    ),
    # norm labels
    (r"(.+): share within (.+)", "{0}：{1t} 内居民比例"),
    (r"(<= .+?); (<= .+)", "{0p}；{1p}"),  # a zone rule's two caps
    (
        r"<= (\S+) open (.+) per township \((\S+) over (\S+) residents\)",
        "每个乡镇至多开设 {0} 个 {1}（居民超过 {3} 的乡镇至多 {2} 个）",
    ),
    (r"<= (\S+) open (.+) per township", "每个乡镇至多开设 {0} 个 {1}"),
    (
        r"<= 1 open (.+) per (\S+) residents \(rounded up\) per zone",
        "每个乡镇每 {1} 居民至多开设 1 个 {0}（向上取整）",
    ),
    (
        r">= 1 open (.+) per (\S+) residents per zone \(at least (\S+)\)",
        "每个乡镇每 {1} 居民至少开设 1 个 {0}（至少 {2} 个）",
    ),
    (r">= 1 open (.+) per (\S+) residents per zone", "每个乡镇每 {1} 居民至少开设 1 个 {0}"),
    (
        r">= (\S+) open (.+) per 10,000 residents per township \(at least (\S+)\)",
        "每个乡镇每万居民至少开设 {0} 个 {1}（至少 {2} 个）",
    ),
    (
        r">= (\S+) open (.+) per 10,000 residents per township",
        "每个乡镇每万居民至少开设 {0} 个 {1}",
    ),
    (r">= (\S+) open (.+) per township", "每个乡镇至少开设 {0} 个 {1}"),
    (
        r"total cost of new sites plus net closures within the budget",
        "新建费用加净关闭费用不超过预算",
    ),
    (r"new '(.+)' sites", "新建 '{0}' 站点数"),
    (r"new sites", "新建站点数"),
    (
        r">= (\S+)% negative-pressure ambulances \((\d+) of (\d+); >= (\d+) required\)",
        "负压救护车 ≥ {0}%（{2} 辆中 {1} 辆；至少需 {3} 辆）",
    ),
    (r">= (\S+)% negative-pressure ambulances", "负压救护车 ≥ {0}%"),
    (
        r"120 (\w+): mean response < (\S+) min \(dispatch included\)",
        "120 {0w}：平均响应 < {1} 分钟（含调度）",
    ),
    (
        r"120 (\w+): residents within the (.+) service radius \(by road\)",
        "120 {0w}：道路服务半径 {1t} 内居民",
    ),
    (r">= (\S+) 120 station\(s\) per township \(建制乡镇\)", "每个建制乡镇至少 {0} 个 120 急救站"),
    (
        r"(\S+) calls/year x (\S+) min per call over (\S+) ambulances x (\S+) min/year",
        "每年 {0} 次呼叫 × 每次 {1} 分钟 ÷（{2} 辆救护车 × 每年 {3} 分钟）",
    ),
    (r"(\w+): (\w+), (.+) \(gap (.+)\)", "{0w}：{1w}，{2}（间隙 {3}）"),
    # staffing quotas (编制) and sent-down rotations (下沉)
    (r"posts ≥ current staff in every facility and category", "各机构各类别岗位 ≥ 现有人员"),
    (r"≤ (\S+) posts at (.+)", "{1} 合计岗位 ≤ {0}"),
    (r"([≤≥]) (\S+)‰ × (\S+) × (\S+) \(remote\) = (\S+)", "{0} {1}‰ × {2} × {3}（偏远）= {4}"),
    (r"([≤≥]) (\S+)‰ × (\S+) = (\S+)", "{0} {1}‰ × {2} = {3}"),
    (r"≥ (\S+) per (\S+) × (\S+) = (\S+)", "≥ 每 {1} 人 {0} × {2} = {3}"),
    (r"≥ (\S+)% of (\S+) (\S+) posts in (\S+)", "≥ {0}%（{1} 个 {2} 岗位中为 {3}）"),
    (r"≥ (\S+)% of (\S+) professional posts", "≥ {1} 个专业技术岗位的 {0}%"),
    (r"≥ (\S+)% of (\S+) posts", "≥ {1} 个岗位的 {0}%"),
    (r"(\S+) GP posts \((\S+) per (\S+)\)", "全科医生岗位 {0} 个（每 {2} 人 {1}）"),
    (r"(\S+) below current", "{0} 个低于现状"),
    (r"(\S+) posts \((\S+)‰ of (\S+)\)", "{0} 个岗位（{2} 人的 {1}‰）"),
    (r"(\S+) \((\S+)%\)", "{0}（{1}%）"),
    (r"(\d+)-(\d+) months", "{0}–{1} 个月"),
    (r"one stint per doctor in any (\d+) months", "每名医生任意 {0} 个月内至多一次派驻"),
    (r"≤ (\S+) min hospital → host", "派出医院 → 驻点 ≤ {0} 分钟"),
    (
        r"≤ (\S+)% of each department away at once \(floor of the share × headcount\)",
        "各科室同时外派 ≤ {0}%（比例 × 人数向下取整）",
    ),
    (r"≤ capacity of each host", "≤ 各驻点容量"),
    # hospital release caps of a sent-down calendar (staffing/outputs.py)
    (r"per hospital: (.+)", "各医院：{0x}"),
    (
        r"peak away / most stints started in a plan year: (.+)",
        "同时外派峰值 / 单个规划年最多派出：{0x}",
    ),
    # county capacity checks (capacity.py): the check's name is the planner's own
    (r"(\S+): >= (\S+) per (\S+) residents", "{0}：每 {2} 居民 ≥ {1}"),
    (r"(\S+): >= (\S+)% of (\S+)", "{0}：≥ {2} 的 {1}%"),
    (r"≥ (\S+) doctor every month at (.+)", "{1} 每月至少 {0} 名医生"),
    (r"≥ (\S+) stints starting in each full plan year", "每个完整规划年至少 {0} 次派驻开始"),
    (r"(\S+) host-months over", "{0} 个驻点·月超出"),
    (r"(\S+) hosts, (\S+) host-months below", "{0} 个驻点，{1} 个驻点·月不足"),
    (r"checked per doctor", "逐名医生核查"),
    (
        r"highest (\S+)% \((.+): (\S+) of (\S+)\); (\S+) departments over",
        "最高 {0}%（{1}：{3} 人中 {2} 人）；{4} 个科室超出",
    ),
    (r"max (\S+) min", "最长 {0} 分钟"),
    (r"year (\d+): (\S+)", "第 {0} 年：{1}"),
    (
        r"hull of the zone's demand points \+ (\S+) m \(approximate\)",
        "乡镇需求点凸包外扩 {0} 米（近似）",
    ),
    (r"case file", "案例文件"),
    (r"case file \((.+)\)", "案例文件（{0}）"),
    (r"target (.+)", "目标 {0}"),
    (r"(.+) \(max\)", "{0}（最大）"),
    (r"maximise (.+)", "最大化 {0*}"),
    (r"(\w+) (time|distance)", "{0w}{1w}"),
]
_COMPILED = [(re.compile(f"^{p}$", re.S), t) for p, t in PHRASES]

_INLINE = [
    (r"≤ no limit at once", "同时外派不限"),
    (r"≤ (\S+) at once", r"同时外派 ≤ \1 人"),
    (r", ≤ no limit stints a year", "、每年派出不限"),
    (r", ≤ (\S+) stints a year", r"、每年派出 ≤ \1 人次"),
    (r", ", "，"),
]
"""Substitutions inside a list (``{0x}``): each item's English, the items' separator."""


def _fill(template: str, groups: tuple[str, ...]) -> str:
    def one(m: re.Match[str]) -> str:
        k, how = int(m[1]), m[2]
        g = groups[k] or ""
        if how == "u":
            return zh_unit(g)
        if how == "w":
            return _w(g)
        if how == "t":
            return _thr(g)
        if how == "p":
            return zh_phrase(g)
        if how == "x":  # a list with inline phrases (hospital release caps)
            for pattern, repl in _INLINE:
                g = re.sub(pattern, repl, g)
            return g
        if how == "*":  # a list of phrases
            sep = ", " if ", " in g else " + "
            return ("，" if sep == ", " else " + ").join(_words(p) for p in g.split(sep))
        return g

    return re.sub(r"\{(\d)([uwtpx*]?)\}", one, template)


def _words(part: str) -> str:
    """One item of a list: a phrase, else its known words translated (``optimal ...``)."""
    out = zh_phrase(part)
    if out != part:
        return out
    return re.sub(r"[a-z_]+", lambda m: _WORDS.get(m[0], m[0]), part)


def zh_phrase(text: str) -> str:
    """The Chinese of a generated English phrase, or ``text`` unchanged when none matches."""
    s = str(text).strip()
    if s in _WORDS:
        return _WORDS[s]
    for pattern, template in _COMPILED:
        m = pattern.match(s)
        if m:
            return _fill(template, m.groups())
    return str(text)
