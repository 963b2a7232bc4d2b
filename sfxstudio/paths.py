"""Where the built-in resources live (repository checkout or installed package)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
RESOURCES = ROOT / "resources"
MODELS = ROOT / "models"
SOUNDS = ROOT / "sounds"
DEMO_MODEL = MODELS / "demo"
