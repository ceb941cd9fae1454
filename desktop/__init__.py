"""The desktop side, one room per job: `cli/` (the command), `history/` (the call store),
`reports/` (HTML, PDF), `window/` (Qt). Qt only in `window/` and `reports/pdf_report.py`."""
