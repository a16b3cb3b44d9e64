"""One self-contained HTML page: styles, Leaflet, map script and data inlined (no network).

The page skeleton, tables, the report body and the map block are Jinja2 templates in
``optimizer/report/templates/`` (autoescape on: text is escaped there, pre-built HTML comes in
as :class:`markupsafe.Markup` or through ``|safe``).
"""

from __future__ import annotations

import base64
import html
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from .i18n import Labels

__all__ = ["html_page", "render_template", "spec_json", "table_html"]

_DATA = Path(__file__).resolve().parent.parent / "data"


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("optimizer.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        finalize=_escaped,
    )


def _escaped(value: Any) -> Any:
    """Plain text escaped as :func:`html.escape` does (``&quot;``, ``&#x27;``), so the pages
    are byte-identical to the f-string pages they replace; Markup passes unchanged."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return Markup(html.escape(value))
    return value


def render_template(name: str, **values: Any) -> str:
    """``templates/<name>`` rendered with ``values`` (strings escaped unless Markup)."""
    return _env().get_template(name).render(**values)


@cache
def _asset(*parts: str) -> str:
    return _DATA.joinpath(*parts).read_text(encoding="utf-8")


@cache
def leaflet_css() -> str:
    css = _asset("leaflet", "leaflet.css")

    def inline(m: re.Match[str]) -> str:
        data = _DATA.joinpath("leaflet", m.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    return re.sub(r"url\((images/[a-z0-9-]+\.png)\)", inline, css)


@cache
def leaflet_js() -> str:
    js = _asset("leaflet", "leaflet.js")
    return re.sub(r"\n//# sourceMappingURL=.*$", "\n", js)


@cache
def cluster_css() -> str:
    """Leaflet.markercluster's styles and the report's cluster icons."""
    d = "leaflet.markercluster"
    return _asset(d, "MarkerCluster.css") + _asset("report", "cluster.css")


@cache
def cluster_js() -> str:
    js = _asset("leaflet.markercluster", "leaflet.markercluster.js")
    return re.sub(r"\n//# sourceMappingURL=.*$", "\n", js)


def _script_safe(text: str) -> str:
    """Text that cannot end the <script> element it is embedded in."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def spec_json(data: Any) -> str:
    """A map spec as script-safe JSON text (for ``templates/map.html.j2``)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _script_safe(text)


def html_page(
    title: str, body: str, labels: Labels, *, with_map: bool, cluster: bool = False
) -> str:
    """The full page. Leaflet and the map script are included only when a map is drawn, and
    Leaflet.markercluster only when a map clusters its points (``cluster``)."""
    values: dict[str, Any] = {
        "html_lang": "zh-CN" if labels.lang == "zh" else "en",
        "title": title,
        "report_css": Markup(_asset("report", "report.css")),
        "body": Markup(body),
        "with_map": with_map,
        "cluster": with_map and cluster,
    }
    if with_map:
        values |= {
            "leaflet_css": Markup(leaflet_css()),
            "licence": _asset("leaflet", "LICENSE"),
            "leaflet_js": Markup(_script_safe(leaflet_js())),
            "map_js": Markup(_script_safe(_asset("report", "map.js"))),
        }
    if with_map and cluster:
        values |= {
            "cluster_css": Markup(cluster_css()),
            "cluster_licence": _asset("leaflet.markercluster", "MIT-LICENCE.txt"),
            "cluster_js": Markup(_script_safe(cluster_js())),
        }
    return render_template("page.html.j2", **values)


def table_html(
    header: list[str],
    rows: list[list[tuple[str, str]]],
    *,
    cls: str = "",
    row_classes: list[str] | None = None,
) -> str:
    """A table; each cell is ``(html, css class)`` (the html is already escaped)."""
    classes = row_classes if row_classes is not None else [""] * len(rows)
    return render_template("table.html.j2", header=header, rows=rows, cls=cls, row_classes=classes)
