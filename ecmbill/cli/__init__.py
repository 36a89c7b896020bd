"""The ``ecmbill`` command: a thin shell that parses input, calls ``ecmbill.services`` and
renders the result. Each group of commands lives in its own module here."""

from ecmbill.cli import claims as _claims  # noqa: F401  (registers commands)
from ecmbill.cli import demo as _demo  # noqa: F401  (registers commands)
from ecmbill.cli import exchange as _exchange  # noqa: F401  (registers commands)
from ecmbill.cli import foundation as _foundation  # noqa: F401  (registers commands)
from ecmbill.cli import remit as _remit  # noqa: F401  (registers commands)
from ecmbill.cli.app import app

__all__ = ["app"]
