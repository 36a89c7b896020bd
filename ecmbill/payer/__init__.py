"""Closing the loop with the payer: the 999 and 277CA acknowledgments of our claims, and the
270/271 eligibility check before a month is billed."""
