"""Synthetic data: every identifier is fake. The demo month, plan-scale files, the plan's
exchange files and a payer's 835."""
