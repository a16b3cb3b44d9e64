"""One self-contained HTML page: styles, Leaflet, map script and data inlined (no network)."""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from .i18n import Labels

__all__ = ["html_page", "json_script", "table_html"]

_DATA = Path(__file__).resolve().parent.parent / "data"


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


def _script_safe(text: str) -> str:
    """Text that cannot end the <script> element it is embedded in."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def json_script(element_id: str, data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return f'<script type="application/json" id="{element_id}">{_script_safe(text)}</script>'


def html_page(title: str, body: str, labels: Labels, *, with_map: bool) -> str:
    """The full page. Leaflet and the map script are included only when a map is drawn."""
    licence = _asset("leaflet", "LICENSE")
    head = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if labels.lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_asset('report', 'report.css')}</style>",
    ]
    if with_map:
        head.append(f"<style>{leaflet_css()}</style>")
    head.append("</head>")
    tail = []
    if with_map:
        tail += [
            f"<!-- Leaflet 1.9.3 - {escape(licence)} -->",
            f"<script>{_script_safe(leaflet_js())}</script>",
            f"<script>{_script_safe(_asset('report', 'map.js'))}</script>",
        ]
    else:
        tail.append('<script>document.body.setAttribute("data-map-ready", "1");</script>')
    return "\n".join([*head, "<body>", body, *tail, "</body>", "</html>"]) + "\n"


def table_html(
    header: list[str],
    rows: list[list[tuple[str, str]]],
    *,
    cls: str = "",
    row_classes: list[str] | None = None,
) -> str:
    """A table; each cell is ``(html, css class)`` (the html is already escaped)."""
    out = [f'<table class="{cls}">' if cls else "<table>", "<thead><tr>"]
    out += [f"<th>{escape(h)}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    for k, row in enumerate(rows):
        rc = row_classes[k] if row_classes is not None else ""
        out.append(f'<tr class="{rc}">' if rc else "<tr>")
        for html, c in row:
            out.append(f'<td class="{c}">{html}</td>' if c else f"<td>{html}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)
