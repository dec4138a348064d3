"""specc.compiler."""
