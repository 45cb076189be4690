"""Sensitivity of the bundles' NPV to land value, construction cost and facility uptake.

Each factor moves by −20 %, −10 %, +10 % and +20 % alone (the others at their base); a
bundle *flips* when it balances at the base (NPV ≥ 0) and not in the scenario, or the
other way round. :func:`tornado_chart` draws one bundle's bars (matplotlib, CJK font);
:func:`tornado_html` draws every bundle's as inline SVG in one offline page.
"""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np
import pandas as pd

from spatial.bundling.finance import FinanceDefaults
from spatial.bundling.joins import joined_by
from spatial.finance.cashflow import cash_flows

__all__ = [
    "CHANGES",
    "FACTORS",
    "sensitivity",
    "sensitivity_table",
    "tornado_chart",
    "tornado_html",
]

#: Factor → label (中文 English).
FACTORS = {
    "land": "土地价值 land value",
    "cost": "建设成本 construction cost",
    "uptake": "设施使用率 facility uptake",
}
#: Relative changes tried for each factor.
CHANGES = (-0.2, -0.1, 0.1, 0.2)


def sensitivity(bundles: pd.DataFrame, *, finance: FinanceDefaults) -> pd.DataFrame:
    """NPV of each bundle when one factor moves.

    Parameters
    ----------
    bundles
        Projects with ``project_id``, the cash-flow components and ``npv_yuan`` (base).
    finance
        Figures.

    Returns
    -------
    DataFrame
        One row per bundle, factor and change: ``bundle_id``, ``factor``, ``factor_zh``,
        ``change`` (e.g. −0.1), ``npv_yuan``, ``base_npv_yuan``, ``delta_yuan``,
        ``balancing`` (NPV ≥ 0), ``flips`` (balancing differs from the base).
    """
    columns = [
        "bundle_id",
        "factor",
        "factor_zh",
        "change",
        "npv_yuan",
        "base_npv_yuan",
        "delta_yuan",
        "balancing",
        "flips",
    ]
    if bundles.empty:
        return pd.DataFrame(columns=columns)
    base = bundles["npv_yuan"].to_numpy(float)
    factors, changes = sorted(FACTORS), sorted(CHANGES)
    table = np.empty((len(bundles), len(factors), len(changes)))
    for a, factor in enumerate(factors):
        for c, change in enumerate(changes):
            scaled = cash_flows(bundles, finance=finance, scale={factor: 1 + change}, npv_only=True)
            table[:, a, c] = scaled.summary["npv_yuan"].to_numpy(float)
    # rows by bundle, factor, change (as sorting by them would give), made in that order:
    # no text column is sorted or taken from
    ids = bundles["project_id"].to_numpy(dtype=object)
    order = np.argsort(ids, kind="stable")
    shape = table[order].shape
    npv = table[order].ravel()
    base_all = np.broadcast_to(base[order][:, None, None], shape).ravel()
    factor_all = np.broadcast_to(np.array(factors, dtype=object)[None, :, None], shape)
    return pd.DataFrame(
        {
            "bundle_id": np.broadcast_to(ids[order][:, None, None], shape).ravel(),
            "factor": factor_all.ravel(),
            "factor_zh": np.broadcast_to(
                np.array([FACTORS[f] for f in factors], dtype=object)[None, :, None], shape
            ).ravel(),
            "change": np.broadcast_to(np.array(changes)[None, None, :], shape).ravel(),
            "npv_yuan": npv,
            "base_npv_yuan": base_all,
            "delta_yuan": npv - base_all,
            "balancing": npv >= 0,
            "flips": (npv >= 0) != (base_all >= 0),
        },
        columns=columns,
    )


def tornado_chart(sens: pd.DataFrame, bundle_id: str, *, ax: Any = None) -> Any:
    """A tornado chart of one bundle: NPV change per factor at ±10 % and ±20 %.

    Parameters
    ----------
    sens
        :func:`sensitivity` output.
    bundle_id
        The bundle to draw.
    ax
        Matplotlib axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The axes, labelled in Chinese and English (万元).

    Raises
    ------
    spatial.render.static.MissingFontError
        When no CJK font is installed (see :func:`spatial.render.static.cjk_font_path`).
    """
    import matplotlib.pyplot as plt

    from spatial.render.static import cjk_style

    rows = sens[sens["bundle_id"] == bundle_id]
    if rows.empty:
        raise KeyError(f"no bundle {bundle_id!r} in the sensitivity table")
    with cjk_style():
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3))
        labels = list(FACTORS.values())
        for y, factor in enumerate(FACTORS):
            r = rows[rows["factor"] == factor].set_index("change")["delta_yuan"] / 1e4
            for change, shade in ((0.2, 0.45), (0.1, 0.9)):
                ax.barh(y, r.get(-change, 0.0), color="#d73027", alpha=shade, height=0.6)
                ax.barh(y, r.get(change, 0.0), color="#1a9850", alpha=shade, height=0.6)
        ax.axvline(0, color="#333", linewidth=0.8)
        from matplotlib.patches import Patch

        ax.legend(
            handles=[
                Patch(color="#d73027", label="因素降低 factor lowered"),
                Patch(color="#1a9850", label="因素提高 factor raised"),
            ],
            fontsize=7,
            loc="lower right",
        )
        ax.set_yticks(range(len(labels)), labels)
        base = float(rows["base_npv_yuan"].iloc[0]) / 1e4
        ax.set_xlabel("净现值变化 NPV change (万元)")
        ax.set_title(
            f"{bundle_id} 敏感性 sensitivity (基准 NPV {base:,.0f} 万元; 深色 ±10%, 浅色 ±20%)"
        )
        ax.figure.tight_layout()
    return ax


def _svg(rows: pd.DataFrame, width: int = 520) -> str:
    delta = rows["delta_yuan"].to_numpy(dtype=float)
    scale = max(float(np.abs(delta).max()), 1.0)
    mid, bar = width // 2 + 80, (width - 200) / 2
    parts = [f'<svg width="{width + 80}" height="{len(FACTORS) * 28 + 10}" role="img">']
    keys = zip(rows["factor"].tolist(), rows["change"].tolist(), strict=True)
    of = dict(zip(keys, delta.tolist(), strict=True))
    for y, (factor, label) in enumerate(FACTORS.items()):
        top = 8 + y * 28
        parts.append(f'<text x="0" y="{top + 14}" font-size="12">{escape(label)}</text>')
        for change, opacity in ((0.2, 0.45), (0.1, 0.9)):
            for sign, colour in ((-1, "#d73027"), (1, "#1a9850")):
                d = float(of.get((factor, sign * change), 0.0))
                w = abs(d) / scale * bar
                x = mid if d >= 0 else mid - w
                parts.append(
                    f'<rect x="{x:.1f}" y="{top}" width="{w:.1f}" height="18" '
                    f'fill="{colour}" fill-opacity="{opacity}"><title>{escape(label)} '
                    f"{sign * change:+.0%}: {d / 1e4:+,.0f} 万元</title></rect>"
                )
    parts.append(f'<line x1="{mid}" x2="{mid}" y1="0" y2="{len(FACTORS) * 28 + 8}" stroke="#333"/>')
    parts.append("</svg>")
    return "".join(parts)


def tornado_html(
    sens: pd.DataFrame,
    *,
    title: str = "片区资金敏感性 Bundle sensitivity",
    max_bundles: int = 500,
) -> str:
    """Every bundle's tornado chart as inline SVG in one page that needs no network.

    Parameters
    ----------
    sens
        :func:`sensitivity` output.
    title
        Page title.
    max_bundles
        Most bundles drawn: those that flip, then those whose NPV moves most (a city of
        tens of thousands of bundles would make a page no browser opens); the page says
        how many more ``sensitivity.csv`` holds.

    Returns
    -------
    str
        The HTML page; bundles that flip are listed first and marked.
    """
    blocks = []
    g = sens.assign(swing=sens["delta_yuan"].abs()).groupby("bundle_id", sort=True)
    rank = pd.DataFrame({"flips": g["flips"].any(), "swing": g["swing"].max()}).sort_values(
        ["flips", "swing"], ascending=False, kind="stable"
    )
    shown = rank.head(max_bundles)
    groups = dict(iter(sens[sens["bundle_id"].isin(shown.index)].groupby("bundle_id")))
    for bundle_id, flips in shown["flips"].items():
        rows = groups[bundle_id]
        base = float(rows["base_npv_yuan"].iloc[0])
        flipped = rows[rows["flips"]]
        note = (
            "; ".join(f"{escape(r.factor_zh)} {r.change:+.0%}" for r in flipped.itertuples())
            if len(flipped)
            else "无 none"
        )
        blocks.append(
            f'<section id="{escape(str(bundle_id))}"><h2>{escape(str(bundle_id))}'
            f"{' ⚠' if flips else ''}</h2><p>基准净现值 base NPV {base / 1e4:,.0f} 万元 "
            f"({'平衡 balancing' if base >= 0 else '缺口 deficit'}); 翻转 flips: {note}</p>"
            f"{_svg(rows)}</section>"
        )
    return (
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif;margin:1em}}"
        "section{border-top:1px solid #ccc;padding:.3em 0}h2{font-size:1.05em;margin:.2em 0}"
        "p{margin:.2em 0;font-size:.9em}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>每个因素单独变化 ±10%（深色）和 ±20%（浅色）时净现值的变化；"
        "each factor alone at ±10 % (dark) and ±20 % (light); 红：因素降低 factor lowered, "
        "绿：因素提高 factor raised.</p>"
        + ("".join(blocks) or "<p>没有片区 no bundles</p>")
        + (
            f"<p>另有 {len(rank) - len(shown):,} 个片区见 sensitivity.csv; "
            f"{len(rank) - len(shown):,} more bundles in sensitivity.csv.</p>"
            if len(rank) > len(shown)
            else ""
        )
        + "</body></html>"
    )


def sensitivity_table(sens: pd.DataFrame) -> pd.DataFrame:
    """One row per bundle: base NPV, NPV in each scenario and what flips it.

    Parameters
    ----------
    sens
        :func:`spatial.finance.sensitivity` output (one row per bundle and scenario).

    Returns
    -------
    DataFrame
        ``bundle_id``, ``base_npv_yuan``, ``npv_<factor>_<change>`` (e.g.
        ``npv_land_-10%``), ``flips`` (the scenarios that flip it, ``;``-separated).
    """
    if sens.empty:
        return pd.DataFrame(columns=["bundle_id", "base_npv_yuan", "flips"])
    # each scenario's label made once (a city has 10⁵ bundles × a dozen scenarios)
    codes, scenarios = pd.factorize(pd.MultiIndex.from_arrays([sens["factor"], sens["change"]]))
    label = np.array([f"npv_{f}_{c:+.0%}" for f, c in scenarios], dtype=object)[codes]
    # the wide table filled in one indexed assignment (as pivot, without its reshaping)
    row, bundle_ids = pd.factorize(sens["bundle_id"], sort=True)
    col, labels = pd.factorize(label, sort=True)
    cell = row * len(labels) + col
    repeated = pd.Series(cell).duplicated().to_numpy()
    if repeated.any():
        which = sorted(
            {f"{sens['bundle_id'].iloc[i]} {label[i]}" for i in np.flatnonzero(repeated)}
        )
        raise ValueError(
            f"duplicate sensitivity rows for {len(which)} bundle and scenario pair(s): "
            f"{'; '.join(which[:5])}{' …' if len(which) > 5 else ''} (one row each is expected)"
        )
    wide = np.full((len(bundle_ids), len(labels)), np.nan)
    wide[row, col] = sens["npv_yuan"].to_numpy(float)
    first = np.unique(row, return_index=True)[1]
    out = pd.DataFrame(
        {
            "bundle_id": np.asarray(bundle_ids, dtype=object),
            "base_npv_yuan": sens["base_npv_yuan"].to_numpy(float)[first],
            **{str(name): wide[:, k] for k, name in enumerate(labels)},
        }
    )
    hit = sens[sens["flips"]]
    names = [f"{f} {c:+.0%}" for f, c in zip(hit["factor"], hit["change"], strict=True)]
    flips = joined_by(hit["bundle_id"], names, sep="; ")
    out["flips"] = np.array([flips.get(b, "") for b in out["bundle_id"]], dtype=object)
    return out
