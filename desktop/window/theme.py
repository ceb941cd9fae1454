"""Colours and the light/dark palettes the window uses, in one place.

Every widget that paints reads its party and urgency colours from here, so the agent is
the same blue on the meters, the timeline and the transcript, and a theme switch is one
call. Calm colours on purpose: the window sits beside a softphone all day.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

__all__ = ["AGENT_COLOR", "CUSTOMER_COLOR", "URGENCY_COLORS", "urgency_of", "urgency_color",
           "apply_theme", "PASS_COLOR", "FAIL_COLOR", "MUTED_COLOR"]

AGENT_COLOR = QColor("#2f7dd1")
CUSTOMER_COLOR = QColor("#d9822b")
PASS_COLOR = QColor("#2e8b57")
FAIL_COLOR = QColor("#c0392b")
MUTED_COLOR = QColor("#8a8f98")

# Urgency by prompt priority (the playbook's): >= 85 act now, >= 60 soon, else a hint.
URGENCY_COLORS = {"urgent": QColor("#c0392b"), "soon": QColor("#d08a1a"),
                  "hint": QColor("#2e7d6b")}


def urgency_of(priority: int) -> str:
    """'urgent', 'soon' or 'hint' for a prompt priority."""
    if priority >= 85:
        return "urgent"
    if priority >= 60:
        return "soon"
    return "hint"


def urgency_color(priority: int) -> QColor:
    return QColor(URGENCY_COLORS[urgency_of(priority)])


def _dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor("#1f2226"), QColor("#17191c"), QColor("#e6e8eb")
    for role, color in ((QPalette.Window, window), (QPalette.Base, base),
                        (QPalette.AlternateBase, QColor("#25292e")),
                        (QPalette.Button, QColor("#2a2e34")), (QPalette.Text, text),
                        (QPalette.WindowText, text), (QPalette.ButtonText, text),
                        (QPalette.ToolTipBase, window), (QPalette.ToolTipText, text),
                        (QPalette.Highlight, QColor("#2f7dd1")),
                        (QPalette.HighlightedText, QColor("#ffffff")),
                        (QPalette.PlaceholderText, QColor("#8a8f98"))):
        p.setColor(role, color)
    p.setColor(QPalette.Disabled, QPalette.Text, QColor("#6b7078"))
    p.setColor(QPalette.Disabled, QPalette.ButtonText, QColor("#6b7078"))
    p.setColor(QPalette.Disabled, QPalette.WindowText, QColor("#6b7078"))
    return p


def apply_theme(app: QApplication, theme: str) -> None:
    """'light', 'dark' or 'system' (the platform's own palette)."""
    app.setStyle("Fusion")
    if theme == "dark":
        app.setPalette(_dark_palette())
    elif theme == "light":
        app.setPalette(app.style().standardPalette())
    else:
        app.setPalette(QPalette())
