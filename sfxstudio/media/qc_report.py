"""The QC report beside every export: one self-contained HTML page (no scripts, no external
files) that opens in any browser: what was written, loudness and true peak against the spec,
warnings (missing sounds, unknown classes, clipping), and the effects list with timecodes,
classes and sound files.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sfxstudio.core.atomic import atomic_write_text

REPORT_SUFFIX = ".report.html"


@dataclass(frozen=True)
class EffectRow:
    tc_in: str
    tc_out: str
    class_name: str
    sound: str | None
    clip: str | None = None  # the per-effect media file, when written


@dataclass(frozen=True)
class LoudnessRow:
    what: str  # "Effects track", "Full mix (MP4)"
    integrated: float  # LUFS
    true_peak: float  # dBTP
    gain_db: float = 0.0  # normalisation applied


@dataclass
class QcReport:
    title: str
    video: str | None = None
    fps: float = 0.0
    start_timecode: str | None = None
    target_lufs: float | None = None
    true_peak_ceiling: float | None = None
    outputs: list[tuple[str, str]] = field(default_factory=list)  # (what, path)
    loudness: list[LoudnessRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    effects: list[EffectRow] = field(default_factory=list)


def report_path(output: str | Path) -> Path:
    """'<output without its suffix>.report.html' beside an output file or folder."""
    output = Path(output)
    stem = output.name[: -len(output.suffix)] if output.suffix and not output.is_dir() else output.name
    return output.with_name(stem + REPORT_SUFFIX)


def _db(x: float) -> str:
    return f"{x:.1f}" if math.isfinite(x) else "-inf"


def _verdict(row: LoudnessRow, target: float | None, ceiling: float | None) -> str:
    notes = []
    if target is not None and math.isfinite(row.integrated):
        notes.append("on target" if abs(row.integrated - target) <= 0.5
                     else f"{row.integrated - target:+.1f} LU from the target")
    if ceiling is not None and math.isfinite(row.true_peak) and row.true_peak > ceiling:
        notes.append(f"true peak over the {ceiling:g} dBTP ceiling")
    return "; ".join(notes)


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.warn{color:#a33}.ok{color:#363}
"""


def render_html(report: QcReport) -> str:
    e = html.escape
    out: list[str] = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(report.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(report.title)}</h1>",
        f"<p>Written {e(_dt.datetime.now().strftime('%Y-%m-%d %H:%M:%S'))} by SFX Studio.",
    ]
    if report.video:
        out.append(f" Video: <code>{e(report.video)}</code>"
                   + (f", {report.fps:.3f} fps" if report.fps else "")
                   + (f", start timecode {e(report.start_timecode)}" if report.start_timecode else "")
                   + ".")
    out.append("</p>")
    out.append("<h2>Outputs</h2><ul>")
    out += [f"<li>{e(what)}: <code>{e(path)}</code></li>" for what, path in report.outputs]
    out.append("</ul>")

    out.append('<h2>Loudness</h2><table id="loudness"><tr><th>Signal</th><th>Integrated (LUFS)</th>'
               "<th>True peak (dBTP)</th><th>Gain applied (dB)</th><th>Check</th></tr>")
    spec = []
    if report.target_lufs is not None:
        spec.append(f"target {report.target_lufs:g} LUFS")
    if report.true_peak_ceiling is not None:
        spec.append(f"true-peak ceiling {report.true_peak_ceiling:g} dBTP")
    for row in report.loudness:
        verdict = _verdict(row, report.target_lufs, report.true_peak_ceiling)
        cls = "warn" if ("from the target" in verdict or "over" in verdict) else "ok"
        out.append(f"<tr><td>{e(row.what)}</td><td class=num>{_db(row.integrated)}</td>"
                   f"<td class=num>{_db(row.true_peak)}</td><td class=num>{row.gain_db:+.2f}</td>"
                   f'<td class="{cls}">{e(verdict)}</td></tr>')
    out.append("</table>")
    out.append(f"<p>{e(', '.join(spec)) if spec else 'No loudness target (measured only).'} "
               "Integrated loudness per ITU-R BS.1770-4 / EBU R128; true peak 4x oversampled.</p>")

    out.append(f'<h2>Warnings ({len(report.warnings)})</h2>')
    if report.warnings:
        out.append('<ul id="warnings">' + "".join(f'<li class="warn">{e(w)}</li>' for w in report.warnings)
                   + "</ul>")
    else:
        out.append('<p id="warnings" class="ok">None.</p>')

    out.append(f'<h2>Effects ({len(report.effects)})</h2><table id="effects"><tr><th>#</th>'
               "<th>In</th><th>Out</th><th>Class</th><th>Sound file</th><th>Clip</th></tr>")
    for i, fx in enumerate(report.effects, 1):
        out.append(f"<tr><td class=num>{i}</td><td>{e(fx.tc_in)}</td><td>{e(fx.tc_out)}</td>"
                   f"<td>{e(fx.class_name)}</td><td>{e(fx.sound or '(none: silent)')}</td>"
                   f"<td>{e(fx.clip or '')}</td></tr>")
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"


def write_report(report: QcReport, path: str | Path) -> Path:
    atomic_write_text(path, render_html(report))
    return Path(path)


def effect_rows(placements: Sequence[object], fps: float, tc_start: float = 0.0,
                clips: dict[int, object] | None = None) -> list[EffectRow]:
    """Rows for placements (media.render.Placement), in timeline order."""
    from sfxstudio.media.bwf import seconds_to_timecode

    rows = []
    for p in sorted(placements, key=lambda q: (getattr(q, "start", 0.0), getattr(q, "class_name", ""))):
        start, end = float(getattr(p, "start", 0.0)), float(getattr(p, "end", 0.0))
        sid = getattr(p, "segment_id", None)
        clip = (clips or {}).get(sid) if sid is not None else None
        rows.append(EffectRow(seconds_to_timecode(tc_start + start, fps),
                              seconds_to_timecode(tc_start + end, fps),
                              str(getattr(p, "class_name", "")), getattr(p, "variation", None),
                              Path(str(getattr(clip, "path", ""))).name if clip is not None else None))
    return rows
