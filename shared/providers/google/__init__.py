"""Scenario A: Google models (Gemini, Imagen, Veo) through google-genai in Vertex mode.

``client.make_client`` builds the SDK client (Vertex AI, retries with exponential backoff and
jitter inside the SDK) and ``client.classify`` maps the SDK's errors, once its retries are
spent, to Tale's ``TransientError`` / ``PermanentError``. ``planner.GeminiPlanner`` and
``images.ImagenImages`` implement the generator ports.
"""
