"""Seeded generators of demo data (accounts, transactions), which the tool owns."""
