"""The ``ecmbill`` command: a thin shell that parses input, calls a use-case service and renders
the result. Each group of commands lives in its own module here, imported when one of its
commands is run (``COMMAND_MODULES`` in ``ecmbill.cli.app``)."""

from ecmbill.cli.app import app

__all__ = ["app"]
