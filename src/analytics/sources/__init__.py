"""Source adapters: one module per export format (see :mod:`analytics.sources.base`)."""
