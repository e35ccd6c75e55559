"""Models over litellm, and scripted models registered as litellm custom providers."""
