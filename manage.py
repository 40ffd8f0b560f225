#!/usr/bin/env python
"""Django's command-line entry point for the portal."""

import os
import sys
from pathlib import Path

# `make run` keeps this checkout's own secret here (scripts/run-local.sh); commands run by hand
# use the same one, since the settings refuse the placeholder with DJANGO_DEBUG off.
LOCAL_SECRET_FILE = Path(__file__).resolve().parent / "var" / "secret_key"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if "DJANGO_SECRET_KEY" not in os.environ and LOCAL_SECRET_FILE.is_file():
        os.environ["DJANGO_SECRET_KEY"] = LOCAL_SECRET_FILE.read_text().strip()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
