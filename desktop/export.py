"""Save a call's scorecard as a PDF (to print or mail) or a self-contained HTML page.

The PDF is laid out by QTextDocument and written by QPdfWriter (both in QtGui, no widgets
and no extra module): A4, page numbers in the footer. Files are written beside the target
and moved into place, so a failed export never leaves half a file where the old one was.
Anything that stops the export raises `ExportError` with one line the window can show.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)

from desktop.html_report import render_html
from desktop.pdf_report import RING_URL, report_html, ring_image
from desktop.scorecard_text import call_title, score_of

__all__ = ["ExportError", "export_pdf", "export_html"]

_MARGINS_MM = QMarginsF(16, 14, 16, 14)
_RESOLUTION = 300
_FONT_PT = 9.5


class ExportError(Exception):
    """The export could not be written; the message is one line for the user."""


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


class _Staged:
    """A temporary file beside `path`, moved over it on success and removed on failure."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.part")

    def __enter__(self) -> Path:
        if self.path.is_dir():
            raise ExportError(f"Cannot write {self.path}: it is a folder")
        try:
            with open(self.tmp, "wb"):
                pass
        except OSError as err:
            raise ExportError(f"Cannot write {self.path}: {_reason(err)}") from None
        return self.tmp

    def __exit__(self, kind, value, tb) -> None:
        try:
            if kind is None:
                os.replace(self.tmp, self.path)
        except OSError as err:
            raise ExportError(f"Cannot write {self.path}: {_reason(err)}") from None
        finally:
            if self.tmp.exists():
                self.tmp.unlink(missing_ok=True)


def export_html(doc: Mapping[str, Any], path: str | os.PathLike[str],
                tracks: Mapping[str, Any] | None = None) -> None:
    """The same page as `callcoach analyze --html` (optionally with loudness tracks)."""
    page = render_html(doc, tracks)
    with _Staged(path) as tmp:
        try:
            tmp.write_text(page, encoding="utf-8")
        except OSError as err:
            raise ExportError(f"Cannot write {path}: {_reason(err)}") from None


def export_pdf(doc: Mapping[str, Any], path: str | os.PathLike[str],
               when: datetime.datetime | None = None) -> None:
    """The scorecard, checks with evidence, figures and the marked transcript on A4.

    Args:
        doc: the schema-1 document (`audio.contract.analysis_to_dict`).
        path: the PDF to write (replaced if it exists).
        when: the call's date, shown in the header when the document has none.
    """
    with _Staged(path) as tmp:
        _write_pdf(doc, tmp, when)


def _write_pdf(doc: Mapping[str, Any], target: Path, when: datetime.datetime | None) -> None:
    writer = QPdfWriter(str(target))
    writer.setResolution(_RESOLUTION)
    writer.setTitle(f"Call scorecard: {call_title(doc)}")
    writer.setCreator("callcoach")
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.A4), QPageLayout.Portrait,
                                     _MARGINS_MM, QPageLayout.Millimeter))
    text = QTextDocument()
    text.documentLayout().setPaintDevice(writer)
    text.setDocumentMargin(0)
    font = QFont("DejaVu Sans")
    font.setStyleHint(QFont.SansSerif)
    font.setPointSizeF(_FONT_PT)
    font.setFeature(QFont.Tag("liga"), 0)  # "fl" stays two letters for search and copy
    text.setDefaultFont(font)
    text.addResource(QTextDocument.ImageResource, QUrl(RING_URL), ring_image(score_of(doc)))
    text.setHtml(report_html(doc, when))

    page = writer.pageLayout().paintRectPixels(_RESOLUTION)
    footer_font = QFont(font)
    footer_font.setPointSizeF(7.5)
    footer_h = round(_RESOLUTION * 0.22)  # about 5.6 mm for the page number line
    body = QSizeF(page.width(), page.height() - footer_h)
    text.setPageSize(body)
    pages = max(1, text.pageCount())
    painter = QPainter()
    if not painter.begin(writer):
        raise ExportError(f"Cannot write {target.name}: the PDF could not be started")
    try:
        for n in range(pages):
            if n:
                writer.newPage()
            painter.save()
            painter.translate(0, -n * body.height())
            text.drawContents(painter, QRectF(0, n * body.height(), body.width(), body.height()))
            painter.restore()
            painter.setFont(footer_font)
            painter.setPen(QColor("#6b7078"))
            foot = QRectF(0, page.height() - footer_h * 0.8, page.width(), footer_h * 0.8)
            painter.drawText(foot, Qt.AlignLeft | Qt.AlignBottom,
                             f"callcoach · {call_title(doc)}")
            painter.drawText(foot, Qt.AlignRight | Qt.AlignBottom, f"page {n + 1} of {pages}")
    finally:
        painter.end()
