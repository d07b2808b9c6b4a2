"""Scene graph model, source types, transitions and the compositor (no Qt widgets, no network)."""
