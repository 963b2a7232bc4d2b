"""Every GUI option, declared once with its default and type (Picard style), stored with QSettings.

The registry `OPTIONS` is the single place an option's name, default and type live; code reads
and writes options through `Settings`, never through raw QSettings keys, so a typo fails loudly
and a missing or corrupt stored value falls back to the declared default.

Tests, benchmarks and screenshot runs point the storage at a temporary INI file with
`use_settings_file(path)` (or the SFXSTUDIO_SETTINGS environment variable) so they never read or
overwrite an editor's real settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

ORGANIZATION = "SFX Studio"
APPLICATION = "SFX Studio"
MAX_RECENT = 10
SETTINGS_ENV = "SFXSTUDIO_SETTINGS"  # path of an INI file that replaces the user's settings
DATA_DIR_ENV = "SFXSTUDIO_DATA_DIR"  # replaces AppDataLocation (log, recovery) for tests


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    type: type
    doc: str = ""


def _options(*items: Option) -> dict[str, Option]:
    return {o.name: o for o in items}


OPTIONS: dict[str, Option] = _options(
    Option("window/geometry", QByteArray(), QByteArray, "main window geometry (saveGeometry)"),
    Option("window/state", QByteArray(), QByteArray, "toolbars and docks (saveState)"),
    Option("window/splitter", QByteArray(), QByteArray, "preview/timeline splitter sizes"),
    Option("window/top_splitter", QByteArray(), QByteArray, "preview/side panel (Classes) splitter sizes"),
    Option("window/bottom_splitter", QByteArray(), QByteArray, "probability timeline/lanes splitter sizes"),
    Option("window/side_tab", 0, int, "the side panel's open tab"),
    Option("files/recent", [], list, f"recently opened videos and projects, newest first, max {MAX_RECENT}"),
    Option("files/last_video_dir", "", str, "folder of the last opened video"),
    Option("files/last_project_dir", "", str, "folder of the last opened or saved project"),
    Option("files/last_export_dir", "", str, "folder of the last export"),
    Option("models/selected", "", str, "bundle folder chosen in the model combo"),
    Option("models/user_folders", [], list, "folders added with 'Add model folder...'"),
    Option("analysis/batch_size", 16, int, "frames per inference batch (cancel granularity)"),
    Option("analysis/separate_process", True, bool,
           "analyse in a child process, so loading TensorFlow never freezes the window"),
    Option("analysis/device", "auto", str, "where the analysis runs: auto | cpu | gpu (fixed once TF runs)"),
    Option("recovery/interval_s", 30.0, float, "seconds between autosaves of unsaved work"),
    Option("recovery/folder", "", str, "where recovery files go; empty = AppDataLocation/recovery"),
    Option("export/original_gain_db", 0.0, float, "level of the video's own audio in the MP4 mix"),
    Option("export/effects_gain_db", 0.0, float, "level of the effects in the MP4 mix"),
    Option("export/loudness_target", "off", str, "loudness to normalise to: off, or LUFS such as -23 or -24"),
    Option("export/true_peak", -1.0, float, "true-peak ceiling in dBTP when normalising"),
    Option("playback/effects_enabled", True, bool, "play the effects mix with the video"),
)

_settings_file: str | None = None


def use_settings_file(path: str | Path | None) -> None:
    """Store settings in this INI file instead of the user's (None restores the default)."""
    global _settings_file
    _settings_file = str(path) if path is not None else None


def data_dir() -> Path:
    """AppDataLocation (log file, recovery folder); SFXSTUDIO_DATA_DIR overrides it."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        path = Path(override)
    else:
        loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        path = Path(loc) if loc else Path.home() / ".sfxstudio"
        if ORGANIZATION not in str(path) and APPLICATION not in str(path):
            # Without a QCoreApplication the location lacks the app name; keep ours separate.
            path = path / APPLICATION
    path.mkdir(parents=True, exist_ok=True)
    return path


def _coerce(option: Option, value: Any) -> Any:
    """A stored value as the option's type; the default when it cannot be read as one."""
    if value is None:
        return option.default
    try:
        if option.type is bool:
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if option.type is list:
            # INI files store a one-element list as a plain string and an empty one as None.
            if isinstance(value, str):
                return [value] if value else []
            return [str(v) for v in value]
        if option.type is QByteArray:
            return value if isinstance(value, QByteArray) else QByteArray(value)
        return option.type(value)
    except (TypeError, ValueError):
        return option.default


class Settings:
    """Typed access to the options in `OPTIONS`."""

    def __init__(self, path: str | Path | None = None) -> None:
        path = path or _settings_file or os.environ.get(SETTINGS_ENV)
        if path:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self.qsettings = QSettings(ORGANIZATION, APPLICATION)

    def get(self, name: str) -> Any:
        option = OPTIONS[name]
        if not self.qsettings.contains(name):
            default = option.default
            return list(default) if isinstance(default, list) else default
        return _coerce(option, self.qsettings.value(name))

    def set(self, name: str, value: Any) -> None:
        option = OPTIONS[name]
        self.qsettings.setValue(name, _coerce(option, value))

    def sync(self) -> None:
        self.qsettings.sync()

    # Recent files: the list editors expect (newest first, no duplicates, only files that exist).
    def recent_files(self) -> list[str]:
        return [p for p in self.get("files/recent") if Path(p).exists()][:MAX_RECENT]

    def add_recent_file(self, path: str | Path) -> list[str]:
        p = str(Path(path).resolve())
        recent = [p] + [r for r in self.get("files/recent") if r != p]
        self.set("files/recent", recent[:MAX_RECENT])
        return self.recent_files()

    def recovery_folder(self) -> Path:
        folder = self.get("recovery/folder")
        path = Path(folder) if folder else data_dir() / "recovery"
        path.mkdir(parents=True, exist_ok=True)
        return path
