"""Turn bench/results.json into the README's "Performance" table.

One row per target: what is measured, the command that reproduces it, the measured value, the
target, and whether it is met. The table replaces only the text between the markers
`<!-- perf:start -->` and `<!-- perf:end -->` in README.md; when the markers are absent the table
is printed to stdout instead (and the script says so on stderr).

    .venv/bin/python bench/report.py [--results bench/results.json] [--readme README.md] [--stdout]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- perf:start -->", "<!-- perf:end -->"

Row = dict[str, Any]  # what, command, measured, target, met (True/False/None)


def _cmd(entry: dict[str, Any]) -> str:
    return str(entry.get("command", ""))


def rows_targets_list(entry: dict[str, Any], res: dict[str, Any]) -> list[Row]:
    """Benches that list their own targets (bench_analysis)."""
    return [{"what": t["what"], "command": _cmd(entry), "measured": t["measured"],
             "target": t["target"], "met": t.get("met")} for t in res["targets"]]


def rows_segmentation(entry: dict[str, Any], res: dict[str, Any]) -> list[Row]:
    ms = max(res["ms_after_k_change"], res["ms_after_threshold_change"])
    return [{
        "what": f"re-segment after a k/threshold change, {res['frames']:,} frames x {res['classes']} classes",
        "command": _cmd(entry),
        "measured": f"{ms} ms, {res['speedup_vs_python']}x vs plain Python"
                    + ("" if res.get("results_identical_to_python") else " (results differ!)"),
        "target": res.get("target", ""),
        "met": res.get("met"),
    }]


def rows_render(entry: dict[str, Any], res: dict[str, Any]) -> list[Row]:
    x = res["x_realtime_total"]
    what = (f"render + 24-bit WAV, {res['timeline_s'] / 60:g}-min timeline, {res['segments']} segments,"
            " x real time")
    return [
        {"what": what, "command": _cmd(entry), "measured": f"{x}x", "target": ">= 100x (issue 2)",
         "met": res.get("target_issue2_100x")},
        {"what": what, "command": _cmd(entry), "measured": f"{x}x", "target": ">= 200x (issue 6)",
         "met": res.get("target_issue6_200x")},
    ]


def rows_memory(entry: dict[str, Any], res: dict[str, Any]) -> list[Row]:
    return [{
        "what": f"peak memory, {res['long_seconds'] / 60:g}-min vs {res['short_seconds'] / 60:g}-min "
                f"video ({res['model']}, {res['analysis_fps']} fps)",
        "command": _cmd(entry),
        "measured": f"{res['peak_difference_mb']:+} MB ({res['short']['peak_mb']} -> "
                    f"{res['long']['peak_mb']} MB; kept results {res['kept_results_difference_mb']} MB)",
        "target": "<= +50 MB",
        "met": res.get("met"),
    }]


def rows_gui(entry: dict[str, Any], res: dict[str, Any]) -> list[Row]:
    cmd = _cmd(entry)
    return [
        {"what": "GUI: launch to visible window", "command": cmd,
         "measured": f"{res['launch_to_visible_s']} s", "target": "<= 2 s",
         "met": res["launch_to_visible_s"] <= 2.0},
        {"what": "GUI: TensorFlow not imported at start", "command": cmd,
         "measured": "imported" if res["tensorflow_at_start"] else "not imported",
         "target": "not imported", "met": not res["tensorflow_at_start"]},
        {"what": "GUI: longest event-loop stall during analysis", "command": cmd,
         "measured": f"{res['max_stall_ms']} ms (p99 {res['p99_stall_ms']} ms)", "target": "<= 100 ms",
         "met": res["max_stall_ms"] <= 100},
    ]


def rows_recompute_gui(entry: dict[str, Any], res: dict[str, Any]) -> list[Row]:
    worst = max(res["recompute_plus_redraw_threshold_ms"], res["recompute_plus_redraw_k_ms"])
    alone = max(res["recompute_threshold_ms"], res["recompute_k_ms"])
    return [{"what": "GUI: recompute + redraw after k/threshold change, 2 h at 30 fps",
             "command": _cmd(entry),
             "measured": f"{worst} ms (recompute alone {alone} ms)",
             "target": "<= 100 ms", "met": res.get("met")}]


def rows_teach(entry: dict[str, Any], res: dict[str, Any]) -> list[Row]:
    e2e = res["end_to_end"][0]
    heads = ", ".join(f"D={h['D']}: {h['collect_s'] + h['fit_s']:.2f} s" for h in res["head_only"])
    return [{"what": "teach a new head from 10,000 cached frames (democnn, load + train + save)",
             "command": _cmd(entry), "measured": f"{e2e['total_s']} s (head only: {heads})",
             "target": "< 10 s", "met": res.get("met")}]


def rows_teach_demo(entry: dict[str, Any], res: dict[str, Any]) -> list[Row]:
    return [{"what": f"demo model without {res['hidden_class']}, 3 effects corrected, taught: event F1",
             "command": _cmd(entry),
             "measured": f"{res['event_f1_before']} -> {res['event_f1_after']} (uncorrected video: "
                         f"{res['other_video_event_f1_before']} -> {res['other_video_event_f1_after']})",
             "target": "improves", "met": res.get("improved")}]


def rows_rate_f1(entry: dict[str, Any], res: dict[str, Any]) -> list[Row]:
    a, b = res["every_frame"], res["6_fps"]
    return [{"what": "demo video event F1: every frame vs 6 fps", "command": _cmd(entry),
             "measured": f"{a['event_f1_200ms']} ({a['frames']} frames, {a['analysis_s']} s) vs "
                         f"{b['event_f1_200ms']} ({b['frames']} frames, {b['analysis_s']} s)",
             "target": "quote both", "met": None}]


def rows_generic(entry: dict[str, Any], res: dict[str, Any], name: str) -> list[Row]:
    """Anything else: its top-level met/target, or each boolean target_* key."""
    what = str(res.get("benchmark", name))
    if "met" in res:
        return [{"what": what, "command": _cmd(entry), "measured": "see bench/results.json",
                 "target": str(res.get("target", "")), "met": res["met"]}]
    rows = [{"what": what, "command": _cmd(entry), "measured": "see bench/results.json",
             "target": k.removeprefix("target_"), "met": v}
            for k, v in res.items() if k.startswith("target_") and isinstance(v, bool)]
    return rows or [{"what": what, "command": _cmd(entry), "measured": "see bench/results.json",
                     "target": "-", "met": None}]


def rows_for(name: str, entry: dict[str, Any]) -> list[Row]:
    res = entry.get("result")
    if not isinstance(res, dict):
        return [{"what": name, "command": _cmd(entry),
                 "measured": f"failed (exit {entry.get('returncode')})", "target": "-", "met": False}]
    handlers: dict[str, Callable[[dict[str, Any], dict[str, Any]], list[Row]]] = {
        "bench_segmentation": rows_segmentation,
        "bench_render": rows_render,
        "bench_memory": rows_memory,
        "bench_gui": rows_gui,
        "bench_recompute_gui": rows_recompute_gui,
        "bench_teach": rows_teach,
        "bench_teach_demo": rows_teach_demo,
        "bench_rate_f1": rows_rate_f1,
    }
    try:
        if isinstance(res.get("targets"), list):
            return rows_targets_list(entry, res)
        if name in handlers:
            return handlers[name](entry, res)
    except (KeyError, TypeError, ZeroDivisionError):
        pass  # an older or changed output: fall back to the generic row
    return rows_generic(entry, res, name)


def _met(value: Any) -> str:
    return "yes" if value is True else "**no**" if value is False else "-"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def make_table(data: dict[str, Any]) -> str:
    benches = data.get("benches", {})
    lines = [
        "| What | Command | Measured | Target | Met? |",
        "|---|---|---|---|---|",
    ]
    for name in sorted(benches):
        for r in rows_for(name, benches[name]):
            quick = " --quick" if benches[name].get("quick") and "--quick" not in r["command"] else ""
            lines.append(f"| {_cell(r['what'])} | `{_cell(r['command'] + quick)}` | {_cell(r['measured'])} | "
                         f"{_cell(r['target'])} | {_met(r['met'])} |")
    m = data.get("machine", {})
    lines += ["", f"Measured on {m.get('platform', '?')}, {m.get('cpus', '?')} CPUs, Python "
                  f"{m.get('python', '?')} (load average {m.get('load_avg', '?')} when written). "
                  "Regenerate with `bash scripts/bench.sh`; raw numbers in `bench/results.json`."]
    return "\n".join(lines)


def insert_table(readme_text: str, table: str) -> str | None:
    """README text with the table between the markers; None when the markers are missing."""
    i = readme_text.find(START)
    j = readme_text.find(END, i + len(START)) if i >= 0 else -1
    if i < 0 or j < 0:
        return None
    return readme_text[: i + len(START)] + "\n" + table + "\n" + readme_text[j:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default=str(ROOT / "bench" / "results.json"))
    ap.add_argument("--readme", default=str(ROOT / "README.md"))
    ap.add_argument("--stdout", action="store_true", help="print the table, do not touch README.md")
    args = ap.parse_args()
    data = json.loads(Path(args.results).read_text(encoding="utf-8"))
    table = make_table(data)
    readme = Path(args.readme)
    if args.stdout:
        print(table)
        return
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    new = insert_table(text, table)
    if new is None:
        print(f"report: {readme} has no {START} ... {END} markers; the table is printed below "
              "instead of written into it", file=sys.stderr)
        print(table)
        return
    if new != text:
        sys.path.insert(0, str(ROOT))
        from sfxstudio.core.atomic import atomic_write_text

        atomic_write_text(readme, new)
    print(f"report: wrote the Performance table into {readme}", file=sys.stderr)


if __name__ == "__main__":
    main()
