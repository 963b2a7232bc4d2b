"""The evaluation report: figures (matplotlib, Agg), a CSV, metrics.json and one HTML page.

report.html is self-contained (figures embedded as base64 PNG) so it can be mailed or attached
to an issue as one file. Every file is written atomically. Figures are drawn with matplotlib's
object API (Figure + FigureCanvasAgg), never pyplot: no global state, no GUI backend, safe to
call from a worker thread while the Qt application runs.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.atomic import atomic_write_bytes, atomic_write_text
from sfxstudio.core.errors import ExportError

CONFUSION_PNG = "confusion_matrix.png"
CONFUSION_CSV = "confusion_matrix.csv"
ROC_PNG = "roc.png"
METRICS_JSON = "metrics.json"
REPORT_HTML = "report.html"


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def confusion_png(normalized: np.ndarray, class_names: Sequence[str], title: str = "") -> bytes:
    """The paper's figure: rows = true class, columns = predicted, each row sums to 1."""
    cm = np.asarray(normalized, dtype=np.float64)
    n = len(class_names)
    size = max(4.0, 0.42 * n + 2.0)
    fig = _figure(size + 1.0, size)
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(cm, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), labels=list(class_names), rotation=90, fontsize=8)
    ax.set_yticks(range(n), labels=list(class_names), fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title or "Confusion matrix (row-normalised)")
    # Values in the cells only where they say something, or a 21x21 grid becomes noise.
    for i in range(n):
        for j in range(n):
            v = cm[i, j]
            if v >= 0.005:
                ax.text(
                    j,
                    i,
                    f"{v:.2f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if v > 0.5 else "black",
                )
    return _png(fig)


def roc_png(fpr: Sequence[float], tpr: Sequence[float], area: float, title: str = "") -> bytes:
    fig = _figure(5.0, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(fpr, tpr, color="#1f77b4", lw=2, label=f"has an effect (AUC = {area:.3f})")
    ax.plot([0, 1], [0, 1], color="#999999", lw=1, ls="--", label="chance")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("false positive rate (frames without an effect)")
    ax.set_ylabel("true positive rate (frames with an effect)")
    ax.set_title(title or "ROC: any effect vs otherwise")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return _png(fig)


def confusion_csv(cm: np.ndarray, class_names: Sequence[str]) -> str:
    """Header row and first column are the class names (true class per row)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["true \\ predicted", *class_names])
    for name, row in zip(class_names, np.asarray(cm), strict=True):
        w.writerow([name, *(f"{v:.6f}" for v in row)])
    return buf.getvalue()


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100.0 * v:.1f} %"


def render_html(metrics: dict[str, Any], figures: dict[str, bytes]) -> str:
    esc = html.escape
    model = metrics.get("model", {})
    roc = metrics.get("roc") or {}
    rows = []
    for name, s in metrics["per_class"].items():
        faded = ' class="empty"' if s["support"] == 0 else ""
        rows.append(
            f"<tr{faded}><td>{esc(name)}</td><td>{s['support']}</td><td>{s['predicted']}</td>"
            f"<td>{s['precision']:.3f}</td><td>{s['recall']:.3f}</td><td>{s['f1']:.3f}</td></tr>"
        )
    facts = [
        ("Model", model.get("name", "")),
        ("Folder", model.get("path", "")),
        ("Kind", model.get("kind", "")),
        ("Backbone", model.get("backbone") or ""),
        ("Weights", model.get("weights_source") or ""),
        ("Input size", "x".join(str(v) for v in model.get("input_size", []))),
        ("Classes", str(len(model.get("classes", [])))),
        ("Description", model.get("description", "")),
        ("Data", metrics.get("data_dir", "")),
        ("Evaluated", metrics.get("evaluated_at", "")),
    ]
    training = model.get("training") or {}
    if training:
        facts.append(
            (
                "Training",
                ", ".join(f"{k}: {v}" for k, v in training.items() if not isinstance(v, (dict, list))),
            )
        )
    unsupported = [c for c in model.get("classes", []) if c not in (model.get("supported_classes") or [])]
    notes = []
    if metrics.get("skipped_classes"):
        notes.append(
            "Folders skipped (the model has no such class): "
            + ", ".join(f"{esc(k)} ({v} images)" for k, v in metrics["skipped_classes"].items())
        )
    if unsupported:
        notes.append("Classes this model never predicts: " + esc(", ".join(unsupported)))
    for p in metrics.get("problems", []):
        notes.append(esc(p))
    auc_text = "n/a" if roc.get("auc") is None else f"{roc['auc']:.3f}"
    roc_html = (
        _img(figures["roc"], "ROC curve")
        if "roc" in figures
        else "<p>No ROC curve: it needs images both with an effect and of <code>otherwise</code>.</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>SFX Studio evaluation: {esc(str(model.get("name", "")))}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 75em; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.2em; margin-top: 2em; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 0.25em 0.8em; border-bottom: 1px solid #ddd; }}
th {{ text-align: left; background: #f4f4f4; }} td:not(:first-child) {{ text-align: right; }}
.facts td {{ text-align: left !important; }} tr.empty td {{ color: #999; }}
.big {{ font-size: 2em; font-weight: bold; margin-right: 1.5em; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>Evaluation of {esc(str(model.get("name", "")))}</h1>
<p><span class="big">{_pct(metrics["accuracy"])}</span> top-1 accuracy on {metrics["images"]} images
&nbsp; <span class="big">{auc_text}</span> AUC (has an effect)</p>
<p>Macro precision {metrics["macro_precision"]:.3f}, recall {metrics["macro_recall"]:.3f},
F1 {metrics["macro_f1"]:.3f} (over the classes with images).</p>
<table class="facts">{"".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in facts)}</table>
{"".join(f"<p>{n}</p>" for n in notes)}
<h2>Per class</h2>
<table><tr><th>class</th><th>images</th><th>predicted</th><th>precision</th><th>recall</th><th>F1</th></tr>
{"".join(rows)}</table>
<h2>Confusion matrix (each row sums to 1)</h2>
{_img(figures["confusion"], "confusion matrix")}
<h2>Has an effect vs otherwise</h2>
<p>Score = 1 - p(otherwise); positive = the true class is an effect.
{roc.get("positives", 0)} images with an effect, {roc.get("negatives", 0)} without.</p>
{roc_html}
</body></html>
"""


def write_report(metrics: dict[str, Any], report_dir: str | Path) -> dict[str, str]:
    """Write the figures, CSV, metrics.json and report.html; -> {kind: path} of what was written."""
    report_dir = Path(report_dir)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(report_dir, f"cannot create the report folder ({exc.strerror or exc})") from exc
    names = metrics["class_names"]
    norm = np.asarray(metrics["confusion_matrix_normalized"], dtype=np.float64)
    figures = {"confusion": confusion_png(norm, names)}
    files: dict[str, str] = {}
    atomic_write_bytes(report_dir / CONFUSION_PNG, figures["confusion"])
    files["confusion_png"] = str(report_dir / CONFUSION_PNG)
    atomic_write_text(report_dir / CONFUSION_CSV, confusion_csv(norm, names))
    files["confusion_csv"] = str(report_dir / CONFUSION_CSV)
    roc = metrics.get("roc") or {}
    if roc.get("auc") is not None:
        figures["roc"] = roc_png(roc["fpr"], roc["tpr"], roc["auc"])
        atomic_write_bytes(report_dir / ROC_PNG, figures["roc"])
        files["roc_png"] = str(report_dir / ROC_PNG)
    else:
        # A stale roc.png from an earlier run would contradict this report.
        stale = report_dir / ROC_PNG
        if stale.exists():
            stale.unlink()
    files["metrics_json"] = str(report_dir / METRICS_JSON)
    files["report_html"] = str(report_dir / REPORT_HTML)
    atomic_write_text(report_dir / METRICS_JSON, json.dumps(metrics | {"files": files}, indent=1) + "\n")
    atomic_write_text(report_dir / REPORT_HTML, render_html(metrics, figures))
    return files
