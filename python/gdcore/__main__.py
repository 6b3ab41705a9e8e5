"""``python -m gdcore`` runs the ``gdcore`` command (see gdcore.cli)."""
import sys

from .cli import main

sys.exit(main())
