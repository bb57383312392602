"""Stage handlers: one idempotent function per pipeline stage, over ports only.

Each handler keys its effects on the event's logical key and is safe to run twice: it checks
what is already recorded, does only what is missing, and re-publishes its output event
(downstream handlers are idempotent too) unless the tale has moved on.
"""
