"""The readable course report: every executed notebook as HTML, and an index page linking them
with the run summary and the metric checks. What an instructor shares after ``make course``.
"""

from __future__ import annotations

import html
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from .baselines import CHECK_HEADER, Check, check_row

STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;
text-align:left}th{background:#f3f3f3}.bad{color:#b00020;font-weight:bold}"""


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _status(text: str) -> str:
    css = "" if text == "ok" else ' class="bad"'
    return f"<span{css}>{html.escape(text)}</span>"


def render_notebooks(executed: list[Path], html_dir: Path) -> dict[Path, Path]:
    """Convert each executed notebook to HTML in ``html_dir``; return {notebook: page}."""
    html_dir.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    pages = {}
    for notebook in executed:
        body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
        page = html_dir / f"{notebook.stem}.html"
        page.write_text(body, encoding="utf-8")
        pages[notebook] = page
    return pages


def write_index(out_dir: Path, title: str, results: list, checks: list[Check]) -> Path:
    """Write ``out_dir/index.html``: run summary (linked), metric checks and all metrics.

    ``results`` are :class:`course_tools.runner.RunResult`; each executed copy is rendered.
    """
    executed = [out_dir / r.notebook.name for r in results
                if (out_dir / r.notebook.name).exists()]
    pages = render_notebooks(executed, out_dir / "html")
    summary = []
    for r in results:
        page = pages.get(out_dir / r.notebook.name)
        name = html.escape(r.notebook.stem)
        link = f'<a href="{page.relative_to(out_dir)}">{name}</a>' if page else name
        summary.append([link, _status(r.status), f"{r.seconds:.1f}", f"{r.peak_mb:.0f}",
                        html.escape(r.error)])
    metrics = [[html.escape(r.notebook.stem), html.escape(k), f"{v:.6g}"]
               for r in results for k, v in sorted(r.metrics.items())]
    parts = [f"<h1>{html.escape(title)}</h1>", "<h2>Notebooks</h2>",
             _table(["notebook", "status", "seconds", "peak MB", "error"], summary)]
    if checks:
        rows = [[*(html.escape(cell) for cell in check_row(c)[:-1]), _status(c.status)]
                for c in checks]
        parts += ["<h2>Metrics against baselines</h2>", _table(list(CHECK_HEADER), rows)]
    parts += ["<h2>All recorded metrics</h2>", _table(["notebook", "metric", "value"], metrics)]
    index = out_dir / "index.html"
    index.write_text(f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>"
                     f"<style>{STYLE}</style>" + "\n".join(parts), encoding="utf-8")
    return index

