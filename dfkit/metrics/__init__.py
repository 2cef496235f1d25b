"""Honest measurements: every number is reported beside the value real data or a trivial baseline gets."""
