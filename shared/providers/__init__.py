"""Providers: adapters that stand in for, or call, the generative models."""
