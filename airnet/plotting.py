"""Paper-style plots of accuracy (mean ± std over channel realizations) against SNR or bandwidth."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from airnet.io import atomic_write  # noqa: E402


def plot_accuracy(rows: Sequence[dict[str, Any]], x: str, out_stem: str | Path, title: str = "",
                  group: str = "scheme", xlabel: str | None = None, panel: str | None = None,
                  chance: float | None = None) -> list[Path]:
    """Plot acc_mean ± acc_std vs column ``x``, one line per ``group`` (one subplot per ``panel`` value).

    Writes ``<out_stem>.png`` and ``<out_stem>.pdf`` atomically; returns their paths.
    """
    panels = sorted({_num(r[panel]) for r in rows}) if panel else [None]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False, sharey=True)
    for ax, pv in zip(axes[0], panels):
        sub = [r for r in rows if panel is None or _num(r[panel]) == pv]
        groups = list(dict.fromkeys(r[group] for r in sub))
        for gname in groups:
            pts = sorted((r for r in sub if r[group] == gname), key=lambda r: _num(r[x]))
            xs = [_num(r[x]) for r in pts]
            mu = [_num(r["acc_mean"]) for r in pts]
            sd = [_num(r["acc_std"]) for r in pts]
            line, = ax.plot(xs, mu, marker="o", ms=3, label=str(gname))
            ax.fill_between(xs, [m - s for m, s in zip(mu, sd)], [m + s for m, s in zip(mu, sd)],
                            color=line.get_color(), alpha=0.15, lw=0)
        if chance is not None:
            ax.axhline(chance, color="grey", ls=":", lw=1, label="chance")
        ax.set_xlabel(xlabel or x)
        ax.grid(alpha=0.3)
        if pv is not None:
            ax.set_title(f"{panel} = {pv:g}")
    axes[0][0].set_ylabel("test accuracy")
    axes[0][0].set_ylim(0, 1.02)
    axes[0][-1].legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    paths = [atomic_write(Path(f"{out_stem}.{ext}"), lambda p, e=ext: fig.savefig(p, format=e, dpi=150))
             for ext in ("png", "pdf")]
    plt.close(fig)
    return paths


def _num(v: Any) -> float:
    return float(v)
