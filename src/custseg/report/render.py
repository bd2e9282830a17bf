"""The report's blocks as text: Markdown (figures linked) and one self-contained HTML page.

The HTML embeds every figure as base64 and carries its CSS inline, with no external resource,
so the page can be mailed or attached to an MLflow run and still open anywhere. A small script
records on <body> how many images decoded, which the browser test reads back.

Blocks hold plain text, much of it data (product names, personas, labels, the command line), so
each renderer escapes every text for its format and masks secrets (custseg.redact) on the way
out: a product called `<script>...` is text in both files, never markup.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

import pandas as pd

from custseg.redact import redact
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


# what could turn data into markup: links and images ([ ]), code spans, table pipes, and the
# backslash itself (else a data backslash would undo the escape after it); emphasis (* _) is
# left alone: it changes no structure and escaping it would clutter every snake_case name
_MD_MARKUP = re.compile(r"[\\`\[\]|]")
_MD_LINE_START = re.compile(r"^(\s*)([-+#*]|\d+(?=[.)]))")  # a heading, list or rule


def md_text(value: Any) -> str:
    """Data as one line of Markdown text: secrets masked, raw HTML neutralised (&, <, > as
    entities, so no tag or autolink survives), links, code spans and table pipes escaped."""
    text = redact(str(value)).replace("\r", " ").replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_MARKUP.sub(lambda m: "\\" + m[0], text)


def md_block(value: Any) -> str:
    """md_text for a paragraph or list item, where a leading '#', '-' or '1.' would make a
    heading or a list of the data."""
    return _MD_LINE_START.sub(_escape_start, md_text(value))


def _escape_start(m: re.Match[str]) -> str:
    mark = m[2]
    if mark[0].isdigit():  # "1." -> "1\." (a backslash before a digit escapes nothing)
        return m[1] + mark + "\\"
    return m[1] + "\\" + mark


def md_code(text: str) -> str:
    """A fenced block shown verbatim (a command to copy): secrets masked, and a fence longer
    than any run of backticks inside, so the text cannot close it early."""
    text = redact(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}bash\n{text}\n{fence}"


def md_table(frame: pd.DataFrame) -> str:
    """A GitHub-style Markdown table without the optional `tabulate` dependency; every header
    and cell is escaped (md_text), so a product name cannot break the table or add markup."""
    head = [md_text(c) for c in frame.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(md_text(v) for v in row) + " |"
              for row in frame.itertuples(False)]  # fmt: skip
    return "\n".join(lines)


def render_markdown(blocks: list[Block], figure_rel: dict[Path, str]) -> str:
    """report.md: `figure_rel` maps each figure's path to its link relative to the report."""
    parts: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            parts.append("#" * block[1] + " " + md_text(block[2]))
        elif kind == "p":
            parts.append(md_block(block[1]))
        elif kind == "ul":
            parts.append("\n".join(f"- {md_block(item)}" for item in block[1]))
        elif kind == "table":
            parts.append(md_table(block[1]))
        elif kind == "img":
            caption = md_text(block[1])
            parts.append(f"**{caption}**\n\n![{caption}]({figure_rel[block[2]]})")
        elif kind == "code":
            parts.append(md_code(block[1]))
    return "\n\n".join(parts) + "\n"


def _esc(value: Any) -> str:
    """Data as HTML text or attribute value: secrets masked, every markup character escaped."""
    return html.escape(redact(str(value)), quote=True)


def _html_table(frame: pd.DataFrame) -> str:
    """A table whose headers and cells are escaped here, not by pandas, so the escaping is the
    same as everywhere else in the page."""
    frame = frame.map(_esc).set_axis([_esc(c) for c in frame.columns], axis=1)
    return frame.to_html(index=False, escape=False, border=0)


def render_html(title: str, blocks: list[Block]) -> str:
    """report.html: every text escaped, every figure embedded, one <section> per segment."""
    esc = _esc
    body: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            level = int(block[1])
            body.append(f"<h{level}>{esc(block[2])}</h{level}>")
        elif kind == "p":
            body.append(f"<p>{esc(block[1])}</p>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in block[1]) + "</ul>")
        elif kind == "table":
            body.append(_html_table(block[1]))
        elif kind == "img":
            data = base64.b64encode(Path(block[2]).read_bytes()).decode("ascii")
            body.append(f'<figure><img alt="{esc(block[1])}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{esc(block[1])}</figcaption></figure>")  # fmt: skip
        elif kind == "code":
            body.append(f"<pre><code>{esc(block[1])}</code></pre>")
        elif kind == "open":
            label = esc(block[1])
            slug = re.sub(r"[^A-Za-z0-9_-]", "_", str(block[1]))
            body.append(f'<section class="segment" data-segment="{label}" id="segment-{slug}" '
                        f'style="border-left-color:{_css_color(block[2])}">')  # fmt: skip
        elif kind == "close":
            body.append("</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + f"\n<script>{LOAD_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _css_color(color: Any) -> str:
    """A colour for a style attribute: #rgb/#rrggbb or a plain name, else grey (nothing else
    may reach CSS)."""
    text = str(color)
    return text if re.fullmatch(r"#[0-9A-Fa-f]{3,8}|[A-Za-z]{1,30}", text) else "#888"
