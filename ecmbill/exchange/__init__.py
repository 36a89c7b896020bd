"""Files exchanged with the health plan: the Member Information File and the X12 834 in, the
Outreach Tracker File and the Return Transmission File out, and the member lifecycle they
report. Column names and value lists live in ``layouts.toml``: a plan's variant is a data
change."""
