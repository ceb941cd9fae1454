"""The Qt window: `gui_main` (entry), `main_window`, settings, theme, workers; `pages/`,
`widgets/`, `dialogs/`. With `reports/pdf_report.py`, the only room that imports Qt."""
