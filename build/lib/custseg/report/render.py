"""The report's blocks as text: Markdown (figures linked) and one self-contained HTML page.

The HTML embeds every figure as base64 and carries its CSS inline, with no external resource,
so the page can be mailed or attached to an MLflow run and still open anywhere. A small script
records on <body> how many images decoded, which the browser test reads back.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import pandas as pd

from custseg.report.blocks import Block

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #444}h2{border-bottom:1px solid #ccc;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f2f2f2}td.num,th.num{text-align:right}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto}
section.segment{border-left:6px solid #888;padding-left:1em;margin:2em 0}
.rfm{display:inline-block;background:#eef;border-radius:3px;padding:0 .4em;font-size:.9em}
"""
LOAD_SCRIPT = """
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.dataset.imagesLoaded = String(ok.length);
  document.body.dataset.imagesTotal = String(imgs.length);
});
"""


def md_table(frame: pd.DataFrame) -> str:
    """A GitHub-style Markdown table without the optional `tabulate` dependency; pipes and
    newlines in cells are escaped so a product name cannot break the table."""

    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    head = [cell(c) for c in frame.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines)


def render_markdown(blocks: list[Block], figure_rel: dict[Path, str]) -> str:
    """report.md: `figure_rel` maps each figure's path to its link relative to the report."""
    parts: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            parts.append("#" * block[1] + " " + block[2])
        elif kind == "p":
            parts.append(block[1])
        elif kind == "ul":
            parts.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "table":
            parts.append(md_table(block[1]))
        elif kind == "img":
            parts.append(f"**{block[1]}**\n\n![{block[1]}]({figure_rel[block[2]]})")
        elif kind == "code":
            parts.append(f"```bash\n{block[1]}\n```")
    return "\n\n".join(parts) + "\n"


def render_html(title: str, blocks: list[Block]) -> str:
    """report.html: every text escaped, every figure embedded, one <section> per segment."""
    esc = html.escape
    body: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            body.append(f"<h{block[1]}>{esc(block[2])}</h{block[1]}>")
        elif kind == "p":
            body.append(f"<p>{esc(block[1])}</p>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in block[1]) + "</ul>")
        elif kind == "table":
            body.append(block[1].to_html(index=False, escape=True, border=0))
        elif kind == "img":
            data = base64.b64encode(Path(block[2]).read_bytes()).decode("ascii")
            body.append(f'<figure><img alt="{esc(block[1])}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{esc(block[1])}</figcaption></figure>")  # fmt: skip
        elif kind == "code":
            body.append(f"<pre><code>{esc(block[1])}</code></pre>")
        elif kind == "open":
            label, color = esc(block[1]), esc(block[2])
            body.append(f'<section class="segment" data-segment="{label}" id="segment-{label}" '
                        f'style="border-left-color:{color}">')  # fmt: skip
        elif kind == "close":
            body.append("</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + f"\n<script>{LOAD_SCRIPT}</script>\n</body>\n</html>\n"
    )
