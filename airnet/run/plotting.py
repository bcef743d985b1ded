"""Paper-style plots of accuracy against SNR or bandwidth: mean over seeds with a 95 % confidence band.

Each curve (a scheme and its design) gets its own marker and line style, so figures stay readable in grayscale;
the caption under the axes names the interval's estimator (:mod:`airnet.run.statistics`) and the test-set size.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from airnet.store.files import atomic_write
from airnet.run.statistics import DEGENERATE, curve_label, estimate, group_rows

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h")
LINESTYLES = ("-", "--", "-.", ":")
AXIS_NAMES = {"snr_db": ("SNR", "dB"), "bandwidth_ratio": ("bandwidth ratio", "")}


def _delivered(rows: Sequence[dict[str, Any]]) -> float:
    """Mean share of the weights delivered over a point's rows (1.0 for rows written before the column existed)."""
    values = [float(r["delivered_fraction"]) for r in rows if str(r.get("delivered_fraction", "")) != ""]
    return sum(values) / len(values) if values else 1.0


def rows_digest(rows: Sequence[dict[str, Any]]) -> str:
    """``airnet rows <n> <sha256 prefix>`` of the rows' keys and accuracies, typed or as read from CSV alike."""
    import hashlib

    from airnet.run.sweep import KEY_COLUMNS
    from airnet.store.results import canonical

    lines = sorted("|".join(canonical(r.get(c, "")) for c in (*KEY_COLUMNS, "acc_mean", "num_realizations"))
                   for r in rows)
    return f"airnet rows {len(lines)} {hashlib.sha256(chr(10).join(lines).encode()).hexdigest()[:16]}"


def panel_title(panel: str, value: float) -> str:
    """``SNR = 0 dB``, ``bandwidth ratio = 0.5``."""
    name, unit = AXIS_NAMES.get(panel, (panel, ""))
    return f"{name} = {value:g}{' ' + unit if unit else ''}"


def plot_accuracy(rows: Sequence[dict[str, Any]], x: str, out_stem: str | Path, title: str = "",
                  xlabel: str | None = None, panel: str | None = None, chance: float | None = None,
                  widths: tuple[float, float] = (5.2, 3.8), note: str = "", test_error: bool = False) -> list[Path]:
    """Plot mean accuracy (95 % band) vs column ``x``, one curve per scheme and design, a panel per ``panel`` value.

    Input
    -----
    rows : sequence of dict
        Result rows (one per training seed), with ``acc_mean``, ``acc_std``, ``num_realizations``, ``seed``.
    x : str
        Column on the x-axis.
    out_stem : path
        Writes ``<out_stem>.png`` and ``<out_stem>.pdf`` (fonts embedded) atomically.
    widths : (inches per panel, axes height)
        Figures narrower than 5 inches in all put the legend under the axes, in a smaller font.
    note : str
        Appended to the caption (e.g. how side information is protected).
    test_error : bool
        Bands include the test set's binomial sampling error (:func:`airnet.run.statistics.estimate`).

    Points whose receivers get under 10 % of the weights (``delivered_fraction``) are drawn hollow, with a legend
    note: they are degenerate, not ordinary points of a curve.

    Output
    ------
    : list of the written paths
    """
    import logging
    import textwrap

    import matplotlib

    logging.getLogger("fontTools").setLevel(logging.WARNING)    # font subsetting for the PDF logs every table
    matplotlib.use("Agg")
    matplotlib.rcParams.update({"pdf.fonttype": 42, "ps.fonttype": 42})    # embedded TrueType fonts
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if not rows:
        raise ValueError(f"no result rows to plot for {out_stem}")
    panels = sorted({float(r[panel]) for r in rows}) if panel else [None]
    curves = list(dict.fromkeys(curve_label(r) for r in rows))
    # 11 markers x 4 line styles cycle together: coprime lengths give 44 distinct (marker, style) pairs
    styles = {c: (MARKERS[i % len(MARKERS)], LINESTYLES[i % len(LINESTYLES)]) for i, c in enumerate(curves)}
    total_width = widths[0] * len(panels)
    narrow = total_width < 5.0
    font = 7 if narrow else 9
    legend_rows = len(curves) + (chance is not None)
    height = widths[1] + 0.16 * (legend_rows if narrow else -(-legend_rows // 2)) + 0.6   # legend and caption below
    with plt.rc_context({"font.size": font, "axes.titlesize": font + 1, "legend.fontsize": font - 1}):
        fig, axes = plt.subplots(1, len(panels), figsize=(total_width, height), squeeze=False, sharey=True,
                                 layout="constrained")
        estimators: set[str] = set()
        tests: set[int] = set()
        hollow_any = False
        for ax, pv in zip(axes[0], panels):
            sub = [r for r in rows if panel is None or float(r[panel]) == pv]
            for curve in curves:
                pts = group_rows([r for r in sub if curve_label(r) == curve], [x])
                if not pts:
                    continue
                xs = sorted(pts)
                est = [estimate(pts[v], test_error=test_error) for v in xs]
                estimators.update(e.estimator for e in est)
                tests.update(int(r.get("test_size", 0) or 0) for v in xs for r in pts[v])
                marker, ls = styles[curve]
                line, = ax.plot([v[0] for v in xs], [e.mean for e in est], marker=marker, ls=ls, ms=3.5, lw=1.1,
                                label=curve)
                hollow = [i for i, v in enumerate(xs) if _delivered(pts[v]) < DEGENERATE]
                if hollow:
                    hollow_any = True
                    ax.plot([xs[i][0] for i in hollow], [est[i].mean for i in hollow], ls="none", marker=marker,
                            ms=4.5, mfc="white", mec=line.get_color(), mew=1.0, zorder=line.get_zorder() + 1)
                ax.fill_between([v[0] for v in xs], [max(0.0, e.low) for e in est],
                                [min(1.0, e.high) for e in est], color=line.get_color(), alpha=0.15, lw=0)
            if chance is not None:
                ax.axhline(chance, color="grey", ls=":", lw=1, label="chance")
            ax.set_xlabel(xlabel or x)
            ax.grid(alpha=0.3)
            if panel is not None and pv is not None:
                ax.set_title(panel_title(panel, pv))
        axes[0][0].set_ylabel("test accuracy")
        axes[0][0].set_ylim(0, 1.02)
        handles, labels = axes[0][0].get_legend_handles_labels()
        for ax in axes[0][1:]:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        if hollow_any:
            handles.append(Line2D([], [], ls="none", marker="o", mfc="white", mec="0.3", ms=4.5))
            labels.append(f"hollow: under {DEGENERATE:.0%} of the weights delivered")
        sizes = ", ".join(str(t) for t in sorted(tests) if t)
        caption = ("bands: " + "; ".join(sorted(estimators)) + (f"; test set: {sizes} images" if sizes else "")
                   + (f"; {note}" if note else ""))
        caption = "\n".join(textwrap.wrap(caption, width=int(total_width * 20)))
        # the legend goes under the axes, never over the curves, with the caption as its title
        legend = fig.legend(handles, labels, loc="outside lower center", ncols=1 if narrow else 2, frameon=False,
                            title=caption, title_fontsize=font - 2)
        legend.get_title().set_color("0.3")
        if title:
            fig.suptitle(title)
        paths = []
        source = rows_digest(rows)
        for ext in ("png", "pdf"):
            def save(p: Path, ext: str = ext) -> None:
                # no creation date (PDF) or software stamp: the same rows give byte-identical files; both name
                # the rows they were drawn from (rows_digest), so a PNG and a PDF can be checked to match
                meta = ({"CreationDate": None, "Subject": source} if ext == "pdf"
                        else {"Software": None, "Description": source})
                fig.savefig(p, format=ext, dpi=200, metadata=meta)

            paths.append(atomic_write(Path(f"{out_stem}.{ext}"), save))
    plt.close(fig)
    return paths
