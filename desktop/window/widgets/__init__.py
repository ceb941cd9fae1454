"""The widgets the pages are built from, one per module."""
