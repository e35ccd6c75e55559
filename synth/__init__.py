"""Synthesis: turn verified rollouts into fine-tuning and reward-model data."""
