"""Shared test setup. Fixtures live in tests/fixtures/*, one module per layer."""

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Models converted for the LiteRT runtime are cached per run, never in the user's ~/.cache
# (set in the environment so the CLI and analysis-server subprocesses use it too).
os.environ.setdefault("SFXSTUDIO_CACHE_DIR", tempfile.mkdtemp(prefix="sfx-test-cache-"))

_FIXTURES = Path(__file__).resolve().parent / "fixtures"
pytest_plugins = [f"tests.fixtures.{p.stem}" for p in sorted(_FIXTURES.glob("[a-z]*.py"))]

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real videos and sounds); tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real media folder {SHARED_DATA} is absent")
    return SHARED_DATA
