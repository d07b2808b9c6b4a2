"""The report's charts as PNG bytes, drawn with matplotlib's Agg backend.

Agg needs no display and no Qt, so the CLI, a CI machine and the GUI's worker thread draw the
same pictures; ``Figure`` objects (not pyplot) keep each chart independent of global state, so
drawing off the UI thread is safe. Labels come through ``tr`` (the caller's language); the font
is Noto Sans CJK where installed, so Chinese titles and segment names never show as boxes.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from functools import cache

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from studio.report.figures import SessionFigures

Translate = Callable[[str], str]
KIND_COLOURS = {"drama": "#8e7cc3", "live": "#f6b26b"}
DPI = 100


@cache
def cjk_font_families() -> tuple[str, ...]:
    """Noto Sans CJK (any of its regional names) first, then matplotlib's default."""
    names = sorted({f.name for f in font_manager.fontManager.ttflist if "Noto Sans CJK" in f.name})
    preferred = sorted(names, key=lambda n: (not n.endswith(" SC"), n))
    return (*preferred, "DejaVu Sans")


def _figure(height: float = 3.2) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(9, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    return fig, ax


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _minutes(fig_data: SessionFigures, times: list[float] | tuple[float, ...]) -> list[float]:
    return [(t - fig_data.started) / 60 for t in times]


def _with_font(draw: Callable[[SessionFigures, Translate], Figure]) -> Callable[[SessionFigures, Translate], bytes]:
    def wrapped(data: SessionFigures, tr: Translate) -> bytes:
        from matplotlib import rc_context

        # parse_math off: a poll question or segment title with "$" is text, not TeX
        with rc_context({"font.family": "sans-serif", "font.sans-serif": list(cjk_font_families()), "text.parse_math": False,
                         "axes.unicode_minus": False}):
            return _png(draw(data, tr))
    return wrapped


@_with_font
def viewers_chart(d: SessionFigures, tr: Translate) -> Figure:
    fig, ax = _figure()
    for s in d.segments:
        ax.axvspan(*_minutes(d, (s.start, s.end)), color=KIND_COLOURS.get(s.kind, "#cccccc"), alpha=0.25, lw=0)
        ax.text(_minutes(d, (s.start,))[0], 1.0, f" {s.title or s.id}", transform=ax.get_xaxis_transform(),
                va="top", fontsize=8, clip_on=True)
    ax.step(_minutes(d, d.viewer_times), d.viewer_counts, where="post", color="#1f77b4")
    ax.set_xlabel(tr("Minutes since start"))
    ax.set_ylabel(tr("Viewers"))
    ax.set_title(tr("Concurrent viewers (bands: segments)"))
    ax.set_ylim(bottom=0)
    return fig


@_with_font
def retention_chart(d: SessionFigures, tr: Translate) -> Figure:
    fig, ax = _figure(2.8)
    labels = [f"{s.from_segment}→{s.to_segment}" for s in d.switches]
    values = [100 * (s.retention or 0.0) for s in d.switches]
    bars = ax.bar(labels, values, color="#f6b26b")
    ax.bar_label(bars, labels=[f"{s.stayed}/{s.present}" for s in d.switches])
    ax.set_ylim(0, 110)
    ax.set_ylabel(tr("Stayed (%)"))
    ax.set_title(tr("Retention across each drama→live switch"))
    return fig


@_with_font
def chat_chart(d: SessionFigures, tr: Translate) -> Figure:
    fig, ax = _figure()
    xs = list(range(len(d.danmaku_per_min)))
    ax.plot(xs, d.danmaku_per_min, label=tr("Danmaku per minute"), marker=".")
    ax.plot(xs, d.likes_per_min, label=tr("Likes per minute"), marker=".")
    ax.set_xlabel(tr("Minutes since start"))
    ax.legend(loc="upper left")
    ax.set_title(tr("Danmaku and likes"))
    return fig


@_with_font
def polls_chart(d: SessionFigures, tr: Translate) -> Figure:
    fig = Figure(figsize=(9, max(2.6, 2.4 * len(d.polls))), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    for i, p in enumerate(d.polls):
        ax = fig.add_subplot(len(d.polls), 1, i + 1)
        xs = [(t - d.started) / 60 for t in p.times]
        for k, option in enumerate(p.options):
            ax.step(xs, [c[k] for c in p.counts], where="post", label=f"{option} ({p.final[k]})")
        ax.set_title(p.question or p.poll, fontsize=10)
        ax.legend(loc="upper left", fontsize=8)
        ax.set_ylabel(tr("Votes"))
    if not d.polls:
        fig.add_subplot().text(0.5, 0.5, tr("No polls"), ha="center")
    fig.suptitle(tr("Each poll's result over time"))
    return fig


@_with_font
def products_chart(d: SessionFigures, tr: Translate) -> Figure:
    fig, ax = _figure(2.8)
    labels = [f"{m.marker}\n{m.product}" for m in d.moments]
    bars = ax.bar(labels, [m.clicks for m in d.moments], color="#6aa84f")
    ax.bar_label(bars)
    ax.set_ylabel(tr("Product clicks"))
    ax.set_title(tr("Product clicks per product moment"))
    return fig


@_with_font
def funnel_chart(d: SessionFigures, tr: Translate) -> Figure:
    fig, ax = _figure(2.6)
    steps = [tr("Watched the episode"), tr("Stayed into live"), tr("Clicked a product")]
    values = [d.funnel.watched, d.funnel.stayed, d.funnel.clicked]
    bars = ax.barh(steps[::-1], values[::-1], color=["#6aa84f", "#f6b26b", "#8e7cc3"])
    ax.bar_label(bars)
    ax.set_title(tr("Funnel"))
    return fig


@_with_font
def gifts_chart(d: SessionFigures, tr: Translate) -> Figure:
    fig, ax = _figure(2.6)
    names = sorted(d.gifts_by_name, key=lambda n: -d.gifts_by_name[n][1])[:12]
    bars = ax.bar(names, [d.gifts_by_name[n][1] for n in names], color="#e06666")
    ax.bar_label(bars, labels=[f"×{d.gifts_by_name[n][0]}" for n in names])
    ax.set_ylabel(tr("Value (yuan)"))
    ax.set_title(tr("Gifts"))
    return fig


CHARTS: tuple[tuple[str, Callable[[SessionFigures, Translate], bytes]], ...] = (
    ("viewers", viewers_chart), ("retention", retention_chart), ("chat", chat_chart), ("polls", polls_chart),
    ("products", products_chart), ("funnel", funnel_chart), ("gifts", gifts_chart),
)


def render_charts(d: SessionFigures, tr: Translate, progress: Callable[[float, str], None] | None = None
                  ) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for i, (name, draw) in enumerate(CHARTS):
        out[name] = draw(d, tr)
        if progress is not None:
            progress((i + 1) / len(CHARTS), name)
    return out


def local_time(t: float) -> str:
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")
