"""Exit statuses of the command line: 0 success, 2 bad input, 130 cancelled, 1 only for bugs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfxstudio import cli
from sfxstudio.core.errors import Cancelled


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    capsys.readouterr()
    rc = cli.main(argv)
    return rc, [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]


def test_a_bug_is_exit_1_with_one_line_and_the_traceback_in_the_log(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(cli.LOG_DIR_ENV, str(tmp_path / "data"))

    def broken(_args: object) -> int:
        raise ZeroDivisionError("division by zero in the mixer")

    monkeypatch.setitem(cli.COMMANDS, "export", broken)
    rc, lines = _run(["export", "p.sfxproj", "--wav", str(tmp_path / "x.wav")], capsys)
    assert rc == 1
    assert len(lines) == 1 and "bug" in lines[0] and "ZeroDivisionError" in lines[0]
    log = tmp_path / "data" / "sfxstudio-cli.log"
    assert str(log) in lines[0]
    assert "Traceback" in log.read_text() and "division by zero in the mixer" in log.read_text()


@pytest.mark.parametrize("exc", [Cancelled("analysis cancelled"), KeyboardInterrupt()])
def test_cancel_is_exit_130(exc: BaseException, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    def cancelled(_args: object) -> int:
        raise exc

    monkeypatch.setitem(cli.COMMANDS, "export", cancelled)
    rc, lines = _run(["export", "p.sfxproj", "--wav", "x.wav"], capsys)
    assert (rc, lines) == (130, ["sfxstudio: cancelled"])


def test_an_os_error_naming_a_file_is_bad_input_not_a_bug(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def gone(_args: object) -> int:
        raise PermissionError(13, "Permission denied", "/media/clip.mp4")

    monkeypatch.setitem(cli.COMMANDS, "export", gone)
    rc, lines = _run(["export", "p.sfxproj", "--wav", "x.wav"], capsys)
    assert rc == 2 and lines == ["sfxstudio: error: /media/clip.mp4: Permission denied"]


@pytest.mark.parametrize("argv,fragment", [
    (["analyze", "v.mp4", "--k", "nan"], "k must be a finite number"),
    (["analyze", "v.mp4", "--k", "-1"], "k must be at least 0"),
    (["analyze", "v.mp4", "--threshold", "1.5"], "threshold must be at most 1"),
    (["analyze", "v.mp4", "--analysis-fps", "inf"], "analysis rate must be"),
    (["analyze", "v.mp4", "--analysis-fps", "-3"], "analysis rate must be more than 0"),
    (["analyze", "v.mp4", "--batch-size", "0"], "batch size"),
    (["export", "p.sfxproj", "--effects-gain", "1e9"], "gain (dB) must be at most"),
    (["export", "p.sfxproj", "--original-gain", "loud"], "gain (dB) must be a number"),
    (["analyze"], "required"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_options_are_one_line_exit_2(argv: list[str], fragment: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert stop.value.code == 2
    assert len(lines) == 1 and fragment in lines[0], lines


def test_strict_turns_a_warning_into_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from sfxstudio.core.errors import warn

    def warns(_args: object) -> int:
        warn(tmp_path / "lib", "the sound library has no usable sound")
        return 0

    monkeypatch.setitem(cli.COMMANDS, "export", warns)
    rc, lines = _run(["export", "p.sfxproj", "--wav", "x.wav"], capsys)
    expected = f"sfxstudio: warning: {tmp_path / 'lib'}: the sound library has no usable sound"
    assert rc == 0 and lines == [expected]
    rc, lines = _run(["export", "p.sfxproj", "--wav", "x.wav", "--strict"], capsys)
    assert rc == 2 and len(lines) == 1 and "(--strict)" in lines[0] and str(tmp_path / "lib") in lines[0]
