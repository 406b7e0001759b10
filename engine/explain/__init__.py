"""Explanations of decisions: why, why not, what would change it, and diffs."""
