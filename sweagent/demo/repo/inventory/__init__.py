"""A tiny inventory library: the example repository of `swe-ttc solve --demo`."""

from inventory.stats import mean, median

__all__ = ["mean", "median"]
