"""Scenario A: Google models (Gemini, the Gemini image model, Veo) through google-genai in
Vertex mode.

``client.make_client`` builds the SDK client (Vertex AI, retries with exponential backoff and
jitter inside the SDK for idempotent calls; a paid start is sent once) and ``client.classify``
maps the SDK's errors, once its retries are spent, to Tale's ``TransientError`` /
``PermanentError`` / ``ModelUnavailable``. ``planner.GeminiPlanner``, ``images.GeminiImages``
and ``veo.VeoVideos`` implement the generator ports; ``text_models``, ``image_models`` and
``veo_models`` are the dated tables of what each model accepts.
"""
