"""X12 interchanges read with pyx12, shared by every reader of a payer's file (834, 999,
277CA, 271): opening the file, pyx12's validation in words, the segments in order."""
