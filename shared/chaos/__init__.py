"""Fault injection for the embedded default, and a seeded, reproducible chaos run.

``faults`` wraps the real local adapters (bus, tale store, blob store, ledger) and a paid
stand-in video provider so that they duplicate, delay and reorder messages, crash before or
after each effect, fail like a provider does, and kill the runtime mid-run. ``run`` drives
many users' tales through the local runtime under those faults, and ``invariants`` checks
what at-least-once delivery promises once it has settled.
"""
