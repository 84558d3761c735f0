"""``python -m outreach``: the same command line as the ``outreach`` script."""

from .cli import main

raise SystemExit(main())
