"""ecmbill: billing for Medi-Cal Enhanced Care Management (ECM) providers."""

from importlib import metadata

__version__ = "0.1.0"


def installed_version() -> str:
    """The version pip installed (pyproject.toml's), shown by ``ecmbill --version`` and in the
    web app's footer."""
    try:
        return metadata.version("ecmbill")
    except metadata.PackageNotFoundError:
        return f"{__version__} (not installed)"
