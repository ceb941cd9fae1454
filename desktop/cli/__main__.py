import sys

from desktop.cli.commands import main

sys.exit(main())
