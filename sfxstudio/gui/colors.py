"""Stable class colours (resources/classes.json), so a class looks the same everywhere."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from PySide6.QtGui import QColor

from sfxstudio.core.classes import default_classes

MUTE_COLOR = QColor("#8a8a8a")


@lru_cache(maxsize=256)
def _hex_for(name: str) -> str:
    classes = default_classes()
    if name in classes:
        return classes[name].color
    # Classes a custom model adds: a stable hue from the name, never random per run.
    hue = int(hashlib.sha1(name.encode("utf-8")).hexdigest()[:4], 16) % 360
    return QColor.fromHsv(hue, 170, 230).name()


def class_color(name: str) -> QColor:
    """The class's colour (a new QColor each call: callers may change alpha)."""
    return QColor(_hex_for(name))


def display_name(name: str) -> str:
    classes = default_classes()
    return classes[name].display_name if name in classes else name.replace("_", " ").capitalize()
