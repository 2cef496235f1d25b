"""Sandboxed, pytest-based grading of dfkit course notebooks."""
