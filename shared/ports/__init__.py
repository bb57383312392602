"""Ports: the small interfaces stage code depends on. Adapters implement them."""
