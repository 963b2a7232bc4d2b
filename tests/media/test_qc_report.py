"""QC report: a self-contained HTML page that parses, holds the numbers and escapes names."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from sfxstudio.media.qc_report import EffectRow, LoudnessRow, QcReport, report_path, write_report


class _Tables(HTMLParser):
    """Cells of every table by id, and every tag seen (to check nothing external is loaded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_report_parses_and_holds_the_numbers(tmp_path):
    report = QcReport(
        title="QC report: fx.wav", video="/v/demo.mp4", fps=25.0, target_lufs=-23.0, true_peak_ceiling=-1.0,
        outputs=[("Effects track", "/out/fx.wav")],
        loudness=[LoudnessRow("Effects track", -23.02, -3.71, 2.2), LoudnessRow("Full mix", -21.0, -0.5)],
        warnings=["no sound for class 'lightning': its effects are silent",
                  "stem 'fire' clips: peak +1.2 dBFS"],
        effects=[EffectRow("00:00:01:04", "00:00:03:00", "<script>cars</script>", "cars/a.wav", "x.wav"),
                 EffectRow("00:00:05:00", "00:00:06:10", "fire", None)])
    path = write_report(report, report_path(tmp_path / "fx.wav"))
    assert path == tmp_path / "fx.report.html"
    text = path.read_text(encoding="utf-8")
    parser = _Tables()
    parser.feed(text)
    parser.close()
    assert text.startswith("<!DOCTYPE html>")
    assert not any(tag in ("script", "link", "img") for tag, _ in parser.tags)  # self-contained, no code
    loud = parser.tables["loudness"]
    assert loud[1][:4] == ["Effects track", "-23.0", "-3.7", "+2.20"]
    assert loud[1][4] == "on target"
    assert loud[2][:3] == ["Full mix", "-21.0", "-0.5"]
    assert "+2.0 LU from the target" in loud[2][4] and "over the -1 dBTP ceiling" in loud[2][4]
    fx = parser.tables["effects"]
    assert fx[1] == ["1", "00:00:01:04", "00:00:03:00", "<script>cars</script>", "cars/a.wav", "x.wav"]
    assert fx[2][4] == "(none: silent)"
    assert "&lt;script&gt;" in text
    assert "lightning" in text and "+1.2 dBFS" in text


def test_report_path_for_files_and_folders(tmp_path):
    assert report_path(Path("out/fx.mp4")) == Path("out/fx.report.html")
    (tmp_path / "stems").mkdir()
    assert report_path(tmp_path / "stems") == tmp_path / "stems.report.html"
    assert report_path(Path("out/clips")) == Path("out/clips.report.html")
