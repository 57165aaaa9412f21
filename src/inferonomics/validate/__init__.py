"""Comparing predictions with measured data and published tables (nothing here tunes anything)."""
