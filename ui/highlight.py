"""Essay text as HTML with the marker's evidence highlighted.

Spans are character offsets into the essay text (the MarkResult contract). They
may overlap (one sentence can earn credit for evidence and analysis), so the
text is cut at every span boundary and each piece is wrapped in one ``<mark>``
coloured by the first criterion (or content point theme) covering it, with a
``title`` listing everything that covers it (shown on hover).
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Iterable

CRITERIA = ("relevance", "evidence", "range", "luck", "analysis", "judgement", "communication")
CRITERION_COLOURS = {
    "relevance": "#cfe8ff", "evidence": "#ffe3a3", "range": "#d7f5d0", "luck": "#f6d0f0",
    "analysis": "#ffd1c2", "judgement": "#d9d2ff", "communication": "#e3e3e3",
}
THEME_COLOURS = ["#ffe3a3", "#cfe8ff", "#d7f5d0", "#ffd1c2", "#d9d2ff", "#f6d0f0", "#e3e3e3", "#c8f0ee"]
FLAG_COLOUR = "#ffb3b3"


@dataclass(frozen=True)
class Tag:
    start: int
    end: int
    key: str  # criterion id, point id or "flag:<id>"
    label: str  # what hovering shows


def criterion_tags(result: dict[str, Any], names: dict[str, str] | None = None) -> list[Tag]:
    names = names or {}
    out = []
    for c in result.get("criteria", []):
        for ev in c.get("evidence", []):
            pts = ", ".join(ev.get("points", []))
            extra = "; ".join(x for x in (pts, ev.get("note", "")) if x)
            label = names.get(c["id"], c["id"].capitalize()) + (f" ({extra})" if extra else "")
            out.append(Tag(int(ev["start"]), int(ev["end"]), c["id"], label))
    return out


def point_tags(result: dict[str, Any], labels: dict[str, str] | None = None) -> list[Tag]:
    labels = labels or {}
    out = []
    for p in result.get("points", []):
        if not p.get("found"):
            continue
        for s, e in p.get("spans", []):
            out.append(Tag(int(s), int(e), p["id"], f"{p['id']}: {labels.get(p['id'], '')}".rstrip(": ")))
    return out


def feedback_tags(result: dict[str, Any]) -> list[Tag]:
    """Sentences behind each strength ("strength") and target ("target"), when the result has them."""
    out = []
    for item in result.get("feedback_items") or []:
        kind = "strength" if item.get("kind") == "strength" else "target"
        for s, e in item.get("spans", []):
            out.append(Tag(int(s), int(e), kind, item.get("text", "")))
    return out


FEEDBACK_COLOURS = {"strength": "#d7f5d0", "target": "#ffe3a3"}


def flag_tags(result: dict[str, Any]) -> list[Tag]:
    out = []
    for f, spans in (result.get("flag_spans") or {}).items():
        for sp in spans:
            out.append(Tag(int(sp["start"]), int(sp["end"]), f"flag:{f}", f"Flag: {f.replace('_', ' ')}"))
    return out


def colours_for(keys: Iterable[str], by: str = "criterion", theme_index: dict[str, int] | None = None) -> dict[str, str]:
    """Colour per key: fixed per criterion; for points, one colour per theme of the rubric
    (``theme_index``: point id -> the theme's position), so a theme's points share a colour."""
    out: dict[str, str] = {}
    for k in keys:
        if k.startswith("flag:"):
            out[k] = FLAG_COLOUR
        elif by == "criterion":
            out[k] = CRITERION_COLOURS.get(k, "#eeeeee")
        else:
            idx = (theme_index or {}).get(k, 0)
            out[k] = THEME_COLOURS[idx % len(THEME_COLOURS)]
    return out


def essay_html(text: str, tags: list[Tag], colours: dict[str, str], order: list[str] | None = None) -> str:
    """The essay as HTML: paragraphs kept, tagged stretches in coloured <mark>s."""
    n = len(text)
    tags = [t for t in tags if 0 <= t.start < t.end <= n]
    rank = {k: i for i, k in enumerate(order or [])}
    cuts = sorted({0, n, *(t.start for t in tags), *(t.end for t in tags)})
    parts = ['<div class="essay" style="line-height:1.7;font-size:1.02rem;white-space:pre-wrap">']
    for a, b in zip(cuts, cuts[1:]):
        piece = html.escape(text[a:b])
        cover = [t for t in tags if t.start <= a and b <= t.end]
        if not cover:
            parts.append(piece)
            continue
        cover.sort(key=lambda t: (rank.get(t.key, 99), t.key))
        first = cover[0]
        title = html.escape("; ".join(dict.fromkeys(t.label for t in cover)), quote=True)
        keys = " ".join(dict.fromkeys(t.key for t in cover))
        style = f"background:{colours.get(first.key, '#eee')};padding:0 1px;border-radius:3px"
        if len({t.key for t in cover}) > 1:
            second = next(t for t in cover if t.key != first.key)
            style += f";border-bottom:3px solid {_darker(colours.get(second.key, '#999'))}"
        parts.append(f'<mark data-keys="{html.escape(keys, quote=True)}" title="{title}" style="{style}">{piece}</mark>')
    parts.append("</div>")
    return "".join(parts)


def legend_html(colours: dict[str, str], names: dict[str, str]) -> str:
    chips = [f'<span style="background:{c};padding:2px 8px;border-radius:10px;margin:0 6px 4px 0;'
             f'display:inline-block;font-size:0.85rem">{html.escape(names.get(k, k))}</span>'
             for k, c in colours.items()]
    return '<div class="legend">' + "".join(chips) + "</div>"


def spans_by_key(text: str, tags: list[Tag]) -> dict[str, list[str]]:
    """For the side list: key -> the quoted stretches, in essay order, without repeats."""
    out: dict[str, list[str]] = {}
    for t in sorted(tags, key=lambda t: t.start):
        q = " ".join(text[t.start:t.end].split())
        if len(q) > 220:
            q = q[:217] + "..."
        lst = out.setdefault(t.key, [])
        if q not in lst:
            lst.append(q)
    return out


def _darker(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    if len(h) != 6:
        return "#666"
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return "#%02x%02x%02x" % (int(r * 0.6), int(g * 0.6), int(b * 0.6))
