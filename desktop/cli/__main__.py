"""`python -m desktop.cli`: the `callcoach` command."""

import sys

from desktop.cli.commands import main

if __name__ == "__main__":  # a spawned child process may import this module
    sys.exit(main())
