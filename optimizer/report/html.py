"""Build report.html from a run folder (``python -m optimizer report``, and after every run)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..atomic import StagedOutput, atomic_write
from .i18n import Labels
from .mapview import basemap_spec
from .page import html_page, render_template
from .registry import Context, sections
from .rundata import RunData

__all__ = ["render_report", "write_report", "write_report_file"]

log = logging.getLogger(__name__)


def render_report(
    run: RunData, *, lang: str = "zh", basemap: str = "none", tianditu_key: str | None = None
) -> str:
    """The whole report page for a run, with every registered section that applies."""
    t = Labels(lang)
    ctx = Context(t, basemap_spec(basemap, tianditu_key, t))
    title = f"{t('report')} - {run.case_name}"
    done = [(sec, sec.render(run, ctx)) for sec in sections()]
    body = render_template(
        "report.html.j2",
        heading=t("report"),
        case_name=run.case_name,
        case_file=str(run.solution.get("case", {}).get("file", "")),
        sections=[(sec.key, t(sec.title), html) for sec, html in done if html],
    )
    return html_page(
        title,
        body,
        t,
        with_map=bool(ctx.cache.get("has_map")),
        cluster=bool(ctx.cache.get("cluster")),
    )


def write_report_file(
    run_dir: str | Path,
    out: str | Path | None = None,
    *,
    lang: str = "zh",
    basemap: str = "none",
    tianditu_key: str | None = None,
) -> Path:
    """Render the report of ``run_dir`` and write it atomically (default: RUN_DIR/report.html)."""
    run = RunData.from_dir(run_dir, "RUN_DIR", verify=True)
    key = tianditu_key or os.environ.get("TIANDITU_KEY")
    html = render_report(run, lang=lang, basemap=basemap, tianditu_key=key)
    target = Path(out) if out is not None else Path(run_dir) / "report.html"
    if target.resolve().parent == Path(run_dir).resolve():
        # a file inside the run: the run is republished whole, its manifest resealed
        with StagedOutput(run_dir, keep_existing=True) as staged:
            staged.text(target.name, html)
    else:
        with atomic_write(target) as fh:
            fh.write(html)
    log.info("Wrote %s (%s bytes)", target, f"{len(html.encode('utf-8')):,}")
    return target


def write_report(out: StagedOutput, *, lang: str = "zh") -> None:
    """report.html of a run being written, built from its staged files (offline, no basemap)."""
    run = RunData.from_dir(out.stage_dir, "RUN_DIR")
    out.text("report.html", render_report(run, lang=lang, basemap="none"))
