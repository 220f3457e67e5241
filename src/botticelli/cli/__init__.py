"""The ``botticelli`` command line: ``generate``, ``models``, ``health``, ``serve``, ``bench`` and ``demo``.

Run ``botticelli --help`` (or ``python -m botticelli --help``). Exit codes: 0 success,
1 a runtime failure (a server down, a request refused), 2 a usage or configuration
mistake, 130 interrupted with Ctrl-C.

Examples:
    >>> main(["--version"])  # doctest: +ELLIPSIS
    botticelli ...
    0
"""

from botticelli.cli.main import main

__all__ = ["main"]
