"""The agent-computer interface: bash, editor, search, submit."""
