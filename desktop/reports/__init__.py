"""A call's scorecard as an HTML page or a PDF, and the words both share with the window.

Qt-free except `pdf_report` (QTextDocument and QPdfWriter)."""
