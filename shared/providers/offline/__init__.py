"""Offline providers: deterministic, rule-based placeholders for the models (no network, no AI)."""
