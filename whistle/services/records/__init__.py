"""Figures for the organisation, from plaintext metadata only."""
