"""Save a call's scorecard as a PDF (to print or mail) or a self-contained HTML page.

The PDF is laid out and written by `pdf_report` (QTextDocument and QPdfWriter: the one Qt
module of the reports), imported only when a PDF is asked for, so this module is Qt-free.
Files are written beside the target and moved into place, so a failed export never leaves
half a file where the old one was.
Anything that stops the export raises `ExportError` with one line the window can show.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from desktop.reports.html_report import render_html

__all__ = ["ExportError", "export_pdf", "export_html"]


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
    from desktop.reports.pdf_report import write_pdf  # Qt only when a PDF is asked for

    with _Staged(path) as tmp:
        write_pdf(doc, tmp, when)
