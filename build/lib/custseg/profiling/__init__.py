"""Segment profiles and personas: what each segment looks like and what to do about it.

Clusters are numbered arbitrarily; this package turns them into summaries computed from the
transactions (not from whichever feature set was clustered) and into named personas with
suggested actions, so a report reader sees "Bulk buyers" rather than "segment 3".
"""
