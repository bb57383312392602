"""Scenario B: open models that run inside our own cloud project.

``planner.OpenAICompatiblePlanner`` plans a story with an open model (Llama, Qwen, …) served
by an OpenAI-compatible server (vLLM) in the project, through an HTTP client built with
``shared.providers.egress.guarded_client``, so the story reaches our own endpoints only. Every
inference appends a record (the prompt's SHA-256, never its text) to the ``AuditLog``.
"""
