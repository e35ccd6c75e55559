"""Verifiers: judge a candidate patch by execution, reward models and static diagnostics."""
