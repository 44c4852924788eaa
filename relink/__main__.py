"""Allows `python -m relink`."""

from relink.cli import main

raise SystemExit(main())
