"""Rows of results, their targets, and the three outputs: the Markdown table (stdout and
bench/RESULTS.md), the machine description, and the speedup chart bench/results.png."""

import datetime
import os
import platform
import textwrap
from dataclasses import dataclass, field

from common import NOISY

PEERS = ("PyTorch", "sklearn", "NumPy")


@dataclass
class Row:
    """One measured case. ``values`` maps "nnfast" and each peer to seconds per call
    (or MiB when ``kind == "memory"``); every ratio is peer / nnfast, so > 1 means
    nnfast is faster (or smaller)."""

    wid: str
    case: str
    values: dict
    kind: str = "time"
    flops: float = None  # per nnfast call, for GF/s and % of peak
    min_ratio: dict = field(default_factory=dict)  # peer -> minimum ratio
    min_peak: float = None  # minimum fraction of the run's sgemm peak
    max_value: float = None  # bound on nnfast's own value (seconds or MiB)
    extra_checks: list = field(default_factory=list)  # (target, measured, ok)
    notes: list = field(default_factory=list)
    noise: float = 0.0  # cores used by other processes while this row was measured

    def ratio(self, peer):
        value, own = self.values.get(peer), self.values["nnfast"]
        return None if value is None or not own else value / own

    def gflops(self):
        return None if self.flops is None else self.flops / self.values["nnfast"] / 1e9

    def checks(self, peak):
        """[(target text, measured text, passed)] for every target of this row."""
        out = []
        for peer, minimum in self.min_ratio.items():
            ratio = self.ratio(peer)
            if ratio is not None:
                out.append((f">={minimum:g}x {peer}", f"{ratio:.2f}x", ratio >= minimum))
        if self.min_peak is not None:
            fraction = self.gflops() / peak
            out.append((f">={self.min_peak:.0%} peak", f"{fraction:.0%}",
                        fraction >= self.min_peak))
        if self.max_value is not None:
            value = self.values["nnfast"]
            out.append((f"<={self.fmt(self.max_value)}", self.fmt(value),
                        value <= self.max_value))
        return out + list(self.extra_checks)

    def fmt(self, value):
        if value is None:
            return "-"
        if self.kind == "memory":
            return f"{value:.0f} MiB"
        for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
            if value >= scale or unit == "us":
                return f"{value / scale:.3g} {unit}"


def markdown_table(rows, peak):
    header = ["id", "case", "nnfast", *PEERS, *(f"vs {p}" for p in PEERS), "GF/s",
              "% peak", "target", "status (measured)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        checks = row.checks(peak)
        ratios = [row.ratio(p) for p in PEERS]
        gflops = row.gflops()
        status = ("PASS" if all(ok for *_, ok in checks) else "**MISS**") if checks else "-"
        measured = "; ".join(m for _, m, _ in checks)
        noisy = f", noisy: {row.noise:.1f} cores busy elsewhere" if row.noise > NOISY else ""
        cells = [row.wid, row.case, row.fmt(row.values["nnfast"]),
                 *(row.fmt(row.values.get(p)) for p in PEERS),
                 *("-" if r is None else f"{r:.2f}x" for r in ratios),
                 "-" if gflops is None else f"{gflops:.1f}",
                 "-" if gflops is None else f"{gflops / peak:.0%}",
                 ", ".join(t for t, _, _ in checks) or "-",
                 f"{status} ({measured}{noisy})" if checks else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def notes_list(rows):
    return "\n".join(f"- {row.wid} {row.case}: {note}" for row in rows for note in row.notes)


def machine_info(threads, peak_gflops, nnfast_api):
    import numpy
    import sklearn
    from threadpoolctl import threadpool_info

    from common import core, torch

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    blas = [f"{i['internal_api']} {i.get('version')} (core type {i.get('architecture', '?')})"
            for i in threadpool_info() if i["user_api"] == "blas"]
    torch_isa = torch.backends.cpu.get_cpu_capability() if torch else "n/a"
    return "\n".join([
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- CPU: {cpu}, {os.cpu_count()} logical cores; load average at the end: "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- threads (every library): {threads}; sgemm peak (NumPy float32 1024^3, the "
        f"100% of '% peak'): {peak_gflops:.1f} GF/s",
        f"- instruction sets: nnfast {core.isa()} (this CPU runs: "
        f"{', '.join(core.available_isas())}; --isa or NNFAST_ISA picks one), NumPy's BLAS "
        f"{', '.join(blas)}, PyTorch CPU capability {torch_isa}",
        f"- nnfast driven through its {nnfast_api}",
        f"- Python {platform.python_version()}, NumPy {numpy.__version__} "
        f"({', '.join(blas)}), scikit-learn {sklearn.__version__}, "
        f"PyTorch {torch.__version__ if torch else 'not installed'}",
    ])


def write_results(path, table, notes, info, command):
    with open(path, "w") as f:
        f.write("# nnfast benchmark results\n\n")
        f.write("Generated by `bench/compare.py`; protocol and targets in BENCHMARKS.md. "
                "Ratios are peer / nnfast (> 1: nnfast faster or smaller), medians of "
                "side-by-side repeats in one process.\n\n")
        f.write(f"Command: `{command}`\n\n## Results\n\n{table}\n\n")
        if notes:
            f.write(f"## Notes\n\n{notes}\n\n")
        f.write(f"## Machine\n\n{info}\n")


def plot(rows, path, title):
    """Grouped bars: nnfast's speedup over each peer, one group per case (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if any(r.ratio(p) for p in PEERS)]
    fig, ax = plt.subplots(figsize=(max(8, 1.2 * len(shown)), 5.5))
    width = 0.8 / len(PEERS)
    for i, peer in enumerate(PEERS):
        xs = [j + (i - 1) * width for j, r in enumerate(shown) if r.ratio(peer)]
        ys = [r.ratio(peer) for r in shown if r.ratio(peer)]
        ax.bar(xs, ys, width, label=f"vs {peer}")
        targets = [(j + (i - 1) * width, r.min_ratio[peer]) for j, r in enumerate(shown)
                   if peer in r.min_ratio and r.ratio(peer)]
        if targets:
            ax.scatter(*zip(*targets), marker="_", s=300, color="black", zorder=3)
    ax.axhline(1.0, color="grey", linewidth=1)
    ax.set_yscale("log")
    ax.set_xticks(range(len(shown)))
    ax.set_xticklabels([r.wid + "\n" + textwrap.fill(r.case, 16) for r in shown], fontsize=7)
    ax.set_ylabel("peer / nnfast (time; memory for W7), black tick = target")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
