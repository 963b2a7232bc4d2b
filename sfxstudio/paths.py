"""Where the built-in resources live (repository checkout or installed package)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
RESOURCES = ROOT / "resources"
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
