"""Viewer text is never rich text in Qt.

Labels can be told ``Qt.PlainText``, item views draw display text plainly, but a tooltip has no
format switch: Qt renders it as HTML whenever ``Qt.mightBeRichText`` says so, and an
``<img src="file:///dev/zero">`` in a danmaku then reads that file on hover (2 GB in 6 s). So
every tooltip that may hold text from outside goes through :func:`tooltip`: escaped and wrapped
in ``<qt>``, it always takes the rich-text path, where the escaped text can only be text.
"""

from __future__ import annotations

import html


def escaped(text: str) -> str:
    """Text for a rich-text context (tooltips, message boxes): every character shown as itself."""
    return html.escape(text, quote=True).replace("\n", "<br>")


def tooltip(text: str) -> str:
    """A tooltip that shows ``text`` literally (line breaks kept, markup never interpreted)."""
    return f"<qt><span style='white-space:pre-wrap'>{escaped(text)}</span></qt>" if text else ""


__all__ = ["escaped", "tooltip"]
