"""Where the built-in files live.

The class list and the ImageNet tables are package data (sfxstudio/resources), found with
importlib.resources, so a wheel installed anywhere reads them. The demo model and the default
sound library are the checkout's top-level models/ and sounds/ (the editor's own models and
libraries are chosen in the window or with --model / --library).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE_DIR = Path(str(resources.files("sfxstudio")))
ROOT = PACKAGE_DIR.parent
RESOURCES = Path(str(resources.files("sfxstudio") / "resources"))
MODELS = ROOT / "models"
SOUNDS = ROOT / "sounds"
DEMO_MODEL = MODELS / "demo"

CACHE_ENV = "SFXSTUDIO_CACHE_DIR"  # the same override as the LiteRT conversion cache


def cache_root() -> Path:
    """Per-user cache: $SFXSTUDIO_CACHE_DIR, else $XDG_CACHE_HOME/sfxstudio (~/.cache/sfxstudio)."""
    import os

    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sfxstudio"


def models_cache_dir() -> Path:
    """Where models SFX Studio builds for itself live (the built-in real-footage recogniser)."""
    return cache_root() / "models"
