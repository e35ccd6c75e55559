"""Development-process tree search: spend rollouts where the process branches."""
