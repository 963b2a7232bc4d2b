"""Dark Fusion theme: the look editors know from Resolve, Premiere and Final Cut."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

WINDOW = QColor(45, 45, 48)
BASE = QColor(30, 30, 32)
TEXT = QColor(220, 220, 220)
DISABLED_TEXT = QColor(120, 120, 120)
HIGHLIGHT = QColor(42, 130, 218)


def dark_palette() -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    p.setColor(role.Window, WINDOW)
    p.setColor(role.WindowText, TEXT)
    p.setColor(role.Base, BASE)
    p.setColor(role.AlternateBase, WINDOW)
    p.setColor(role.ToolTipBase, QColor(60, 60, 64))
    p.setColor(role.ToolTipText, TEXT)
    p.setColor(role.PlaceholderText, DISABLED_TEXT)
    p.setColor(role.Text, TEXT)
    p.setColor(role.Button, QColor(55, 55, 58))
    p.setColor(role.ButtonText, TEXT)
    p.setColor(role.BrightText, QColor(255, 80, 80))
    p.setColor(role.Link, HIGHLIGHT)
    p.setColor(role.Highlight, HIGHLIGHT)
    p.setColor(role.HighlightedText, QColor(255, 255, 255))
    p.setColor(role.Light, QColor(70, 70, 74))
    p.setColor(role.Midlight, QColor(60, 60, 64))
    p.setColor(role.Mid, QColor(40, 40, 42))
    p.setColor(role.Dark, QColor(25, 25, 27))
    p.setColor(role.Shadow, QColor(10, 10, 10))
    # Greyed-out text must stay readable but clearly inactive on the dark background.
    group = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText, role.HighlightedText):
        p.setColor(group, r, DISABLED_TEXT)
    p.setColor(group, role.Highlight, QColor(70, 70, 74))
    return p


def apply_dark_theme(app: QApplication) -> None:
    """Fusion style (the same on every OS) with a dark palette."""
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setStyle(style)
    app.setPalette(dark_palette())
