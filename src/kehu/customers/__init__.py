"""Customers: people and organisations, and their 360 timeline."""
