"""The ``ecmbill`` command: a thin shell that parses input, calls a use-case service and renders
the result. Each group of commands lives in its own module here."""

# isort: off
# Importing a module registers its commands; `ecmbill --help` lists them in this order.
from ecmbill.cli import imports as _imports  # noqa: F401
from ecmbill.cli import rating as _rating  # noqa: F401
from ecmbill.cli import members as _members  # noqa: F401
from ecmbill.cli import corrections as _corrections  # noqa: F401
from ecmbill.cli import contract as _contract  # noqa: F401
from ecmbill.cli import plans as _plans  # noqa: F401
from ecmbill.cli import claims as _claims  # noqa: F401
from ecmbill.cli import remit as _remit  # noqa: F401
from ecmbill.cli import payer as _payer  # noqa: F401
from ecmbill.cli import demo as _demo  # noqa: F401
from ecmbill.cli import exchange as _exchange  # noqa: F401
from ecmbill.cli import web as _web  # noqa: F401
from ecmbill.cli import backup as _backup  # noqa: F401

# isort: on
from ecmbill.cli.app import app

__all__ = ["app"]
