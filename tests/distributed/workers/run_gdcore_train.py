"""Worker: ``gdcore train`` with the given arguments (as ``gdcore launch -n N -m gdcore train ...`` runs it)."""
import sys

from gdcore.cli import main

sys.exit(main(["train", *sys.argv[1:]]))
