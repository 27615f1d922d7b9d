"""Flags: one write path that raises and resolves them (``raising``) and the conditions that the
nightly refresh checks (``conditions``)."""
