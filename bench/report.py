"""The benchmark's outputs: medians and ratios, the stdout table, latest.json and latest.png."""
from __future__ import annotations

import json
import statistics
from pathlib import Path

from servers import OURS

# What each measured point reports: its headline metric, unit, and which way is better.
POINTS = {
    "echo_64": {"title": "echo 64 B", "metric": "msgs_per_s", "unit": "msg/s", "better": "higher"},
    "echo_1024": {"title": "echo 1 KiB", "metric": "msgs_per_s", "unit": "msg/s", "better": "higher"},
    "echo_16384": {"title": "echo 16 KiB", "metric": "msgs_per_s", "unit": "msg/s", "better": "higher"},
    "echo_1048576": {"title": "echo 1 MiB", "metric": "msgs_per_s", "unit": "msg/s", "better": "higher"},
    "latency": {"title": "latency p99 at fixed load", "metric": "p99_us", "unit": "us", "better": "lower"},
    "connect": {"title": "new connections", "metric": "msgs_per_s", "unit": "conn/s", "better": "higher"},
    "idle": {"title": "memory per idle conn", "metric": "bytes_per_conn", "unit": "B/conn", "better": "lower"},
    "deflate_64": {"title": "deflate echo 64 B", "metric": "msgs_per_s", "unit": "msg/s", "better": "higher"},
    "deflate_16384": {"title": "deflate echo 16 KiB", "metric": "msgs_per_s", "unit": "msg/s", "better": "higher"},
    "idle_deflate": {"title": "memory per idle deflate conn", "metric": "bytes_per_conn", "unit": "B/conn",
                     "better": "lower"},
    "client": {"title": "client as load source", "metric": "msgs_per_s", "unit": "msg/s", "better": "higher"},
    "workers_1": {"title": "1 worker (unpinned)", "metric": "msgs_per_s", "unit": "msg/s", "better": "higher"},
    "workers_2": {"title": "2 workers (unpinned)", "metric": "msgs_per_s", "unit": "msg/s", "better": "higher"},
}

# In the "client" point the entries are clients, not servers; this one is ours.
OURS_CLIENT = "this project's client"

# A load source using this much of its core may itself be the limit: its figure is a lower bound.
LOAD_BOUND_PCT = 90.0


def load_bound(point: str, median: dict) -> bool:
    """True when the side that should not be the limit was (nearly) saturated while measuring.

    Normally that is the load generator; in the "client" point the client is
    what is measured, so there it is the fixed server.
    """
    if POINTS[point]["better"] != "higher":
        return False
    key = "server_cpu_pct" if point == "client" else "cpu_pct"
    return median.get(key, 0.0) >= LOAD_BOUND_PCT


def summarize(runs: list) -> dict:
    """Median of every numeric field over the successful runs; `failed` counts the others."""
    good = [r for r in runs if "error" not in r]
    out: dict = {"rounds": len(good), "failed": len(runs) - len(good)}
    if not good:
        out["error"] = runs[-1].get("error", "no run") if runs else "no run"
        return out
    for key in good[0]:
        values = [r[key] for r in good if isinstance(r.get(key), (int, float))]
        if values and len(values) == len(good):
            out[key] = statistics.median(values)
    return out


def ratios(results: dict) -> dict:
    """For each point: ours / peer on the headline metric (None where either side is missing)."""
    out: dict = {}
    for point, by_peer in results.items():
        metric = POINTS[point]["metric"]
        ours_name = OURS_CLIENT if point == "client" else OURS
        ours = by_peer.get(ours_name, {}).get("median", {}).get(metric)
        out[point] = {}
        for peer, entry in by_peer.items():
            if peer == ours_name:
                continue
            theirs = entry.get("median", {}).get(metric)
            out[point][peer] = (ours / theirs) if ours and theirs else None
    return out


def _fmt(value: float, unit: str) -> str:
    if unit == "B/conn":
        return "%.1f KiB/conn" % (value / 1024)
    if unit == "us":
        return "%.2f ms" % (value / 1000) if value >= 1000 else "%.0f us" % value
    return "{:,.0f} {}".format(value, unit)


def table(doc: dict) -> str:
    """The stdout table: one row per (point, server), medians, load-generator CPU, server CPU, ratio."""
    rows = [("workload", "server", "median", "loadgen cpu", "server cpu", "%s / it" % OURS)]
    for point, by_peer in doc["results"].items():
        spec = POINTS[point]
        first = True
        for peer, entry in by_peer.items():
            med = entry["median"]
            if "error" in med:
                value = "failed: " + med["error"].splitlines()[0][:60]
                gen = srv = ""
            else:
                value = _fmt(med[spec["metric"]], spec["unit"])
                if point == "latency":
                    value += " (p50 %s)" % _fmt(med.get("p50_us", 0), "us")
                if med.get("errors") or med.get("bad_echo"):
                    value += " !errors"
                if load_bound(point, med):
                    value = ">= " + value
                gen = "%.0f%%" % med["cpu_pct"] if "cpu_pct" in med else "-"
                srv = "%.0f%%" % med["server_cpu_pct"] if "server_cpu_pct" in med else "-"
            ratio = doc["ratios"].get(point, {}).get(peer)
            ratio_text = "%.2fx" % ratio if ratio else ("" if peer in (OURS, OURS_CLIENT) else "n/a")
            rows.append((spec["title"] if first else "", peer, value, gen, srv, ratio_text))
            first = False
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    directions = ", ".join("%s: %s is better" % (POINTS[p]["unit"], POINTS[p]["better"])
                           for p in ("echo_64", "latency", "idle"))
    notes = ["",
             "ratio = %s / server on the headline metric (%s)." % (OURS, directions),
             "loadgen cpu = the load source's share of its core while measuring; '>=' marks figures where it"
             " used >= %.0f%% (it may be the limit, so the server may do more; for the client point the"
             " fixed server's cpu is checked instead)." % LOAD_BOUND_PCT,
             "server cpu = the server's processes' CPU over the same window (100% = one core)."]
    for peer, reason in doc.get("skipped", {}).items():
        notes.append("skipped %s: %s" % (peer, reason))
    return "\n".join(lines + notes)


def write_json(doc: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    tmp.replace(path)


def write_chart(doc: dict, path: Path) -> None:
    """One horizontal bar panel per point, servers as bars, this project highlighted."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [p for p, by_peer in doc["results"].items()
              if any(POINTS[p]["metric"] in e["median"] for e in by_peer.values())]
    if not points:
        return
    cols = 2
    rows = (len(points) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.6 * rows + 0.8), squeeze=False)
    for ax in axes.flat[len(points):]:
        ax.axis("off")
    for ax, point in zip(axes.flat, points):
        spec = POINTS[point]
        names, values, colors = [], [], []
        for peer, entry in doc["results"][point].items():
            value = entry["median"].get(spec["metric"])
            if value is None:
                continue
            bound = load_bound(point, entry["median"])
            names.append(peer + (" (>=, load-bound)" if bound else ""))
            values.append(value / 1024 if spec["unit"] == "B/conn" else value)
            colors.append("#d62728" if peer in (OURS, OURS_CLIENT) else "#1f77b4")
        unit = "KiB/conn" if spec["unit"] == "B/conn" else spec["unit"]
        ax.barh(names[::-1], values[::-1], color=colors[::-1])
        for y, v in enumerate(values[::-1]):
            ax.text(v, y, " {:,.0f}".format(v) if v >= 10 else " %.1f" % v, va="center", fontsize=8)
        ax.set_title("%s (%s, %s is better)" % (spec["title"], unit, spec["better"]), fontsize=10)
        ax.tick_params(labelsize=8)
        ax.set_xlim(0, max(values) * 1.25 if values else 1)
    meta = doc["meta"]
    fig.suptitle("WebSocket echo, one worker pinned to one core, load on the other; median of %d round(s), "
                 "%.0f s per point%s" % (meta["rounds"], meta["secs"], " (SHORT RUN, noisy)" if meta["short"] else ""),
                 fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
