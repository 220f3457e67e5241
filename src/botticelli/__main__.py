"""``python -m botticelli``: the same command line as the ``botticelli`` script."""

import sys

from botticelli.cli import main

if __name__ == "__main__":
    sys.exit(main())
