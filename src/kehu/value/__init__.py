"""Customer value: transactions, value runs and per-customer scores (CLV, P(alive), RFM, tiers)."""
