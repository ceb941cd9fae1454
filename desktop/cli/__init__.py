from desktop.cli.commands import main

__all__ = ["main"]
