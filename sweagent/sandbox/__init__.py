"""Sandboxes: Docker (isolated) and local (a private copy, not isolated)."""
