#!/usr/bin/env bash
# Register SFX Studio with the desktop (Linux, per user): menu entry and file associations.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$HOME/.local/share/applications"
install -m 644 "$here/sfxstudio.desktop" "$HOME/.local/share/applications/sfxstudio.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$HOME/.local/share/applications" || true
echo "installed $HOME/.local/share/applications/sfxstudio.desktop"
