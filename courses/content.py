"""Authored text: Markdown or HTML in, sanitised HTML out (on save, with nh3).

Teachers write lesson bodies and course descriptions in Markdown or HTML. What is stored for
display is always the sanitised rendering, so templates may mark it ``|safe``; the source is kept
only to edit it again.
"""
from __future__ import annotations

import markdown
import nh3

#: Tags an author may use (no scripts, styles, forms or frames).
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt", "em",
    "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
    "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "u", "ul", "video", "audio", "source", "track",
}
#: Attributes allowed per tag.
ALLOWED_ATTRIBUTES = {
    "*": {"title", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "video": {"src", "controls", "width", "height", "poster", "preload"},
    "audio": {"src", "controls", "preload"},
    "source": {"src", "type"},
    "track": {"src", "kind", "srclang", "label"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
#: Only these URL schemes survive in links and sources (relative URLs are kept).
URL_SCHEMES = {"http", "https", "mailto"}


def sanitise_html(html: str) -> str:
    """``html`` with everything not on the allow-lists removed (scripts, handlers, styles...)."""
    return nh3.clean(html or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow", strip_comments=True)


def render(source: str, fmt: str = "markdown") -> str:
    """Render ``source`` written in ``fmt`` (``markdown`` or ``html``) to sanitised HTML."""
    source = source or ""
    if fmt == "markdown":
        html = markdown.markdown(source, extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
    elif fmt == "html":
        html = source
    else:
        raise ValueError(f"unknown body format {fmt!r}")
    return sanitise_html(html)
