"""Money in: X12 835 remittances read, matched to claims and lines, and reconciled."""
