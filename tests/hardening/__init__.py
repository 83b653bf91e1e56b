"""Hardening: fault matrix, secrets audit, fuzz, soak."""
