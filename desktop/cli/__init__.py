"""The `callcoach` command (`analyze`, `live`, `devices`); no Qt unless the window is asked for.

`main` lives in `commands`; it is here for the console script `desktop.cli:main`."""

from desktop.cli.commands import main

__all__ = ["main"]
