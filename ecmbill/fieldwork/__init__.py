"""What care managers do in the field, as service functions for the web app and its API:
record or correct time (``time``), record an outreach attempt (``outreach``), find a member and
look at a member's month (``members``).

Every write goes through the import checks (``ecmbill.imports.service.record_row``), so a value
the import would reject is rejected here with the same reason, and every change is audited.
"""
