"""Wording of what the command line prints for people (summaries, tables)."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """`1 image`, `2 images`: counts in summaries read as English."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
