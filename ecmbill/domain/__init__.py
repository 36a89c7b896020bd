"""Pure billing rules and value types.

Nothing in this package does I/O or imports a framework: every billing rule lives here once,
and the rating expression, the importers, the CLI and the web app all call it.
"""
