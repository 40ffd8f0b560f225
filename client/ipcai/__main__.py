"""`python -m ipcai` runs the command line, like the `ipcai` script."""

import sys

from ipcai.cli import main

sys.exit(main())
