"""Claims out: settings, closing a period into claims, corrections, 837P and invoice files."""
