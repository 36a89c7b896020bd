"""ecmbill: billing for Medi-Cal Enhanced Care Management (ECM) providers."""

__version__ = "0.1.0"
