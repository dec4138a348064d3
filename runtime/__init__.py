"""specc.runtime."""
