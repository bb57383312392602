"""The ``tale`` command line: run a story through the embedded local runtime."""
