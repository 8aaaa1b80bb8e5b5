#!/usr/bin/python3
"""Charts of the benchmark scripts' figures, as PNG (matplotlib, Agg; about 900 px wide).

    benchmarks/charts.py batch BATCH.json [--out DIR]       batch_bench.sh's batch.json -> batch.png
    benchmarks/charts.py sizes SIZES.csv [--out DIR]        size_bench.sh's sizes.csv -> sizes.png
    benchmarks/charts.py strategies QUALITY.csv [--out DIR] palette_quality.py's CSV -> strategies.png

DIR defaults to docs/images. --note adds a line under the title; the machine, the date, the
number of runs and the load average come from the figures file. Debian's python3-matplotlib
(tools/setup-debian.sh installs it).
"""
import argparse
import csv
import io
import json
import os
import sys

try:
    import matplotlib
except ImportError:  # the benchmark scripts call this after their run: say so and go on
    print("no chart: python3-matplotlib is missing (tools/setup-debian.sh installs it)", file=sys.stderr)
    sys.exit(0)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import matplotlib.transforms  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIDTH_IN, DPI = 9.0, 100  # 900 px
IMGPIPE = "#d1495b"
PEERS = ["#00798c", "#edae49", "#66a182", "#8d96a3", "#2e4057", "#9b5de5"]
LINES = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def read_csv(path):
    """(rows as dicts, {key: value} of the '# key: value' lines anywhere in the file)."""
    notes, lines = {}, []
    with open(path, newline="") as f:
        for line in f:
            if line.startswith("#"):
                key, _, value = line[1:].partition(":")
                notes[key.strip()] = value.strip()
            elif line.strip():
                lines.append(line)
    return list(csv.DictReader(io.StringIO("".join(lines)))), notes


def runs_text(runs):
    return f"{runs} run{'' if str(runs) == '1' else 's'} each"


def best_of(runs):
    return "1 run" if str(runs) == "1" else f"best of {runs} runs"


def subtitle(machine, date, runs, load_before, load_after=None, note=""):
    """The line under the title: where and when, and a warning when the machine was busy."""
    parts = [machine, date, runs]
    if load_before:
        load = float(str(load_before).split()[0])
        after = float(str(load_after).split()[0]) if load_after else load
        text = f"load average {load:.1f}" + (f" → {after:.1f}" if load_after else "")
        if load >= 1.0:  # before the run: the run itself raises the load after it
            text += ": other work shared the machine, times are noisy"
        parts.append(text)
    line = ", ".join(p for p in parts if p)
    return line + (f"\n{note}" if note else "")


def finish(fig, title, sub, out_dir, name):
    fig.suptitle(title, fontsize=13, fontweight="bold", x=0.01, ha="left", y=0.985)
    fig.text(0.01, 0.925, sub, fontsize=8.5, color="#555555", ha="left", va="top")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    try:  # a 256-colour palette PNG: the same picture at about half the bytes
        from PIL import Image
        with Image.open(path) as image:
            image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    except ImportError:
        pass
    print(f"chart: {path} ({os.path.getsize(path) // 1024} KB)")


def batch(args):
    """Three panels, one bar a tool: images/s (median, whiskers slowest to fastest run), CPU ms
    an image, peak RSS; the floor (JPEG decode + WebP encode alone) as a grey bar."""
    with open(args.figures) as f:
        figures = json.load(f)
    rows = []  # (label, colour, img/s, low, high, CPU ms, RSS MB or None)
    peer = 0
    how = {"sharp": "2 in flight", "vips CLI": "2 processes", "Python/OpenCV": "2 processes"}
    for t in figures["tools"]:
        if t["tool"].startswith("imgpipe"):
            label = f"imgpipe batch --jobs {t['jobs']}"
            colour = IMGPIPE if t["jobs"] > 1 else "#e8959f"
        else:
            label = f"{t['tool']} ({how.get(t['tool'], str(t['jobs']) + ' jobs')})"
            colour = PEERS[peer % len(PEERS)]
            peer += 1
        rows.append((label, colour, t["images_per_s"], t["images_per_s"] - t["images_per_s_min"],
                     t["images_per_s_max"] - t["images_per_s"], t["cpu_ms_per_image"], t["peak_rss_mb"]))
    floor = figures.get("floor")
    if floor:
        rows.append(("floor: decode + encode only", "#c8c8c8", floor["images_per_s"], 0, 0,
                     floor["cpu_ms_per_image"], None))
    y = list(range(len(rows)))[::-1]
    fig, axes = plt.subplots(1, 3, figsize=(WIDTH_IN, 0.42 * len(rows) + 2.0), sharey=True,
                             gridspec_kw={"width_ratios": [1.3, 1, 1]})
    fig.subplots_adjust(left=0.235, right=0.975, top=0.76, bottom=0.16, wspace=0.12)
    panels = [
        (2, "images / s (higher is better)", "{:.1f}"),
        (5, "CPU ms an image (lower is better)", "{:.0f}"),
        (6, "peak RSS, MB (lower is better)", "{:.0f}"),
    ]
    for ax, (column, xlabel, fmt) in zip(axes, panels):
        shown = [(yy, r) for yy, r in zip(y, rows) if r[column] is not None]
        values = [r[column] for _, r in shown]
        whiskers = [[r[3] for _, r in shown], [r[4] for _, r in shown]] if column == 2 else None
        ax.barh([yy for yy, _ in shown], values, color=[r[1] for _, r in shown], height=0.66, xerr=whiskers,
                error_kw={"ecolor": "#333333", "capsize": 3, "lw": 1})
        top = max(values) * 1.25
        for yy, r in shown:
            extra = r[4] if column == 2 else 0
            ax.text(r[column] + extra + top * 0.015, yy, fmt.format(r[column]), va="center", ha="left", fontsize=8.5)
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_xlim(0, top)
        ax.grid(axis="x", color="#dddddd", lw=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(labelsize=8.5)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels([r[0] for r in rows])
    axes[0].set_ylim(-0.6, len(rows) - 0.4)
    machine = f"{figures['cores']}-core {figures.get('cpu', '')}".strip()
    sub = subtitle(machine, figures.get("date", ""), runs_text(figures.get("runs", "?")), figures.get("load_before"),
                   figures.get("load_after"), args.note)
    sub += (f"\n{figures['images']} JPEG photos 2048×1536 → {figures['chain']}"
            "\nbars: the median run, whiskers: slowest to fastest; two-process peers: RSS summed; "
            "floor: one single-threaded process a core")
    finish(fig, "Batch throughput against the peers", sub, args.out, "batch.png")


def sizes(args):
    """Two log-log panels: the whole `imgpipe run` process (best wall s), and the step alone
    (ms from --profile-json), against megapixels, one line an operation."""
    rows, notes = read_csv(args.figures)
    operations = list(dict.fromkeys(r["operation"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(WIDTH_IN, 5.0))
    fig.subplots_adjust(left=0.075, right=0.985, top=0.8, bottom=0.24, wspace=0.2)
    megapixels = sorted({float(r["megapixels"]) for r in rows})
    for i, op in enumerate(operations):
        mine = sorted((r for r in rows if r["operation"] == op), key=lambda r: float(r["megapixels"]))
        mp = [float(r["megapixels"]) for r in mine]
        style = {"color": "#555555", "ls": "--"} if op.startswith("decode") else {"color": LINES[i % len(LINES)]}
        axes[0].plot(mp, [float(r["wall_best_s"]) for r in mine], marker="o", ms=4, lw=1.6, label=op, **style)
        if op.startswith("decode"):
            step = [float(r["decode_ms"]) + float(r["encode_ms"]) for r in mine]
        else:
            step = [max(float(r["step_ms"]), 0.05) for r in mine]
        axes[1].plot(mp, step, marker="o", ms=4, lw=1.6, **style)
    for ax, ylabel in ((axes[0], "whole process, best wall s"),
                       (axes[1], "the step alone, ms (--profile-json)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(FixedLocator(megapixels))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("megapixels", fontsize=9)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.grid(True, which="both", color="#e4e4e4", lw=0.6)
        ax.tick_params(labelsize=8.5)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[1].text(0.02, 0.98, "dashed: decode + encode in the process", transform=axes[1].transAxes,
                 fontsize=7.5, color="#555555", va="top")
    fig.legend(loc="lower center", ncol=4, fontsize=8.5, frameon=False, bbox_to_anchor=(0.5, 0.0))
    sub = subtitle(notes.get("machine", ""), notes.get("date", ""), best_of(notes.get("runs", "?")),
                   notes.get("load_before"), notes.get("load_after"), args.note)
    sub += ("\n`imgpipe run` of one step on shell-5120x2880.jpg scaled to each size (JPEG q90 in and out), "
            "hyperfine, best of the runs")
    finish(fig, "Time against image size, one operation a run", sub, args.out, "sizes.png")


def strategies(args):
    """Scatter: imgpipe palette's wall seconds against its error / exact k-means, one colour
    and marker a strategy (hollow: k chosen by imgpipe)."""
    rows, notes = read_csv(args.figures)
    picked = [r for r in rows if r["measure"].startswith("--strategy")]
    if not picked:  # palette_quality.py without --strategies: the defaults only
        picked = [r for r in rows if r["measure"] == "command"]
    order = ["auto", "direct", "scaled", "pyramid"]
    names = sorted({r["strategy"] for r in picked}, key=lambda s: order.index(s) if s in order else 9)
    colours = {"auto": IMGPIPE, "direct": PEERS[0], "scaled": PEERS[1], "pyramid": PEERS[2]}
    markers = {"auto": "o", "direct": "s", "scaled": "^", "pyramid": "v"}
    sizes = {"auto": 70, "direct": 26, "scaled": 30, "pyramid": 30}
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 5.4))
    fig.subplots_adjust(left=0.085, right=0.975, top=0.8, bottom=0.19)
    for name in names:
        for k_asked in ("10", "0"):
            mine = [r for r in picked if r["strategy"] == name and r["k_asked"] == k_asked]
            if not mine:
                continue
            colour = colours.get(name, PEERS[3])
            label = f"{name}{' (the default)' if name == 'auto' else ''}" + ("" if k_asked == "10" else ", k chosen")
            hollow = name == "auto" or k_asked == "0"
            ax.scatter([float(r["seconds"]) for r in mine], [float(r["ratio"]) for r in mine], s=sizes.get(name, 30),
                       marker=markers.get(name, "D"), facecolors="none" if hollow else colour, edgecolors=colour,
                       lw=1.3 if hollow else 0.4, alpha=0.9, label=label, zorder=3 if name == "auto" else 2)
    ax.axhline(1.0, color="#555555", lw=1)
    ax.axhline(1.01, color="#555555", lw=1, ls="--")
    edge = matplotlib.transforms.blended_transform_factory(ax.transAxes, ax.transData)
    ax.text(0.995, 1.01, "+1 % ", transform=edge, fontsize=7.5, color="#555555", va="bottom", ha="right")
    ax.text(0.005, 1.0, " exact k-means", transform=edge, fontsize=7.5, color="#555555", va="top", ha="left")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("imgpipe palette, best wall s (decode, cluster, write the PNG)", fontsize=9)
    ax.set_ylabel("error / exact k-means (lower is better)", fontsize=9)
    ax.grid(True, which="major", color="#e4e4e4", lw=0.6)
    ax.tick_params(labelsize=8.5, which="both")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.legend(loc="lower center", ncol=4, fontsize=8.5, frameon=False, bbox_to_anchor=(0.5, 0.0))
    photos = len({r["photo"] for r in picked})
    ks = sorted({r["k_asked"] for r in picked})
    sub = subtitle(notes.get("machine", ""), notes.get("date", ""), best_of(notes.get("runs", "?")),
                   notes.get("load_before"), notes.get("load_after"), args.note)
    megapixels = [float(r["megapixels"]) for r in picked]
    sub += (f"\n{photos} photos of {min(megapixels):g}–{max(megapixels):g} MP, `imgpipe palette --palettes centers --strategy S`, "
            f"k {' and '.join('chosen' if k == '0' else k for k in ks)}; one point a photo"
            "\nerror: mean squared Lab distance of the recoloured image (benchmarks/lab_error.py), "
            "over that of cv2.kmeans on every pixel")
    finish(fig, "Palette analysis strategies: time against quality", sub, args.out, "strategies.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chart", choices=["batch", "sizes", "strategies"])
    parser.add_argument("figures", help="the figures file the benchmark script wrote")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "images"), help="folder for the PNG")
    parser.add_argument("--note", default="", help="a line of text under the title")
    args = parser.parse_args()
    {"batch": batch, "sizes": sizes, "strategies": strategies}[args.chart](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
