"""PyInstaller entry script: the same entry point as the `doodlepaint` console script."""
import sys

from doodlepaint.cli import main

if __name__ == "__main__":
    sys.exit(main())
