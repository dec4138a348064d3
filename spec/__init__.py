"""specc.spec: the spec language, its loader and its rules. Never imports torch."""
