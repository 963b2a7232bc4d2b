#!/usr/bin/env bash
# Set up SFX Studio on a Debian machine: system packages (when run as root), a virtual
# environment in .venv and the package with its test tools. Safe to run again: it only
# installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Qt (offscreen and xcb platforms, Qt Multimedia), simpleaudio's build, and Xvfb for GUI checks.
APT_PACKAGES="xvfb libpulse0 libasound2 libasound2-dev libegl1 libgl1 libopengl0 libglib2.0-0 \
libfontconfig1 libfreetype6 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 \
libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 \
libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 libx11-xcb1 libxrender1 libxi6 libsm6 libice6 \
libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libgssapi-krb5-2"

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  missing=""
  for p in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "setup: installing system packages:$missing" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
else
  echo "setup: not root or no apt-get; make sure these Debian packages are present: $APT_PACKAGES" >&2
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PY" -m venv .venv
fi
stamp=".venv/.sfxstudio-installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages (first time: a few minutes)" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev,ray]"
  # Optional: simpleaudio auditions sounds instantly; Qt Multimedia is the fallback.
  .venv/bin/python -m pip install -q "simpleaudio>=1.0.4" \
    || echo "setup: simpleaudio did not build; auditioning falls back to Qt Multimedia" >&2
  rm -f .venv/.sfxstudio-installed-*
  touch "$stamp"
fi
# keras-hub (zero-shot SigLIP/CLIP) needs tensorflow-text, whose wheel depends on `tensorflow`:
# install both without dependencies, tensorflow-text matched to the TensorFlow installed above,
# so pip never adds a second TensorFlow beside tensorflow-cpu (its light dependencies are in
# pyproject.toml).
if ! .venv/bin/python -c "import keras_hub, tensorflow_text" >/dev/null 2>&1; then
  tf_mm=$(.venv/bin/python -c "import importlib.metadata as m
for d in ('tensorflow-cpu', 'tensorflow'):
    try: v = m.version(d); break
    except m.PackageNotFoundError: v = ''
print('.'.join(v.split('.')[:2]))")
  echo "setup: installing keras-hub and tensorflow-text $tf_mm.* (no dependencies)" >&2
  .venv/bin/python -m pip install -q --no-deps "keras-hub==0.32.*" "tensorflow-text==$tf_mm.*" \
    || echo "setup: keras-hub/tensorflow-text not installed; zero-shot models are unavailable" >&2
fi
