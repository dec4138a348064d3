"""specc.tui."""
