"""Use cases of the service layer that take more than one port (``submit_tale``); they raise
the domain's errors (``shared.domain.errors``), which the HTTP entry point maps to problem
documents and the CLI to exit codes."""
