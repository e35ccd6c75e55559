"""swe-ttc agent core: one rollout of one task in a sandbox."""

__version__ = "0.1.0"
