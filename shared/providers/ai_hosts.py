"""Hosts that run AI inference outside our project: what scenario B's egress guard refuses
whatever its allow-list says (``shared.providers.egress``).

Google serves each of its APIs in several forms — global (``aiplatform.googleapis.com``), mTLS
(``aiplatform.mtls.googleapis.com``), regional (``us-central1-aiplatform.googleapis.com``),
regional mTLS, regional endpoints (``aiplatform.us-central1.rep.googleapis.com``), Private
Service Connect (``aiplatform-x.p.googleapis.com``) — so a Google AI API is recognised by its
*service* name anywhere in the host (``google_ai_service``), not by a list of hosts that would
miss the next variant. Other vendors are listed by host in ``DENY``.
"""

from __future__ import annotations

import re

__all__ = ["DENY", "GOOGLE_AI_SERVICES", "GOOGLE_API_DOMAINS", "google_ai_service"]

#: Google's API domains: a service is reached under any of them.
GOOGLE_API_DOMAINS: tuple[str, ...] = ("googleapis.com", "googleapis.cn")

#: Google APIs that run a model on what they are sent (the service's name, the first label of
#: ``<service>.googleapis.com``): refused in every form Google serves them (``google_ai_service``).
GOOGLE_AI_SERVICES: frozenset[str] = frozenset(
    {
        "aiplatform",  # Vertex AI (Gemini, Imagen, Veo, model garden, endpoints)
        "generativelanguage",  # the Gemini API
        "ml",  # AI Platform (legacy) prediction
        "automl",
        "documentai",
        "dialogflow",
        "discoveryengine",  # Vertex AI Search and Conversation, Agent Builder
        "contactcenteraiplatform",
        "contactcenterinsights",
        "contentwarehouse",
        "cloudaicompanion",  # Gemini for Google Cloud
        "geminicloudassist",
        "retail",  # Vertex AI Search for commerce
        "recommendationengine",
        "jobs",  # Cloud Talent Solution
        "translate",
        "translation",
        "language",
        "speech",
        "texttospeech",
        "vision",
        "videointelligence",
        "visionai",
        "healthcare",  # Healthcare Natural Language
        "notebooklm",
    }
)

#: AI inference outside our project: refused whatever the allow-list says (with every Google
#: AI service above, in every form).
DENY: tuple[str, ...] = (
    "generativelanguage.googleapis.com",
    "generativelanguage.mtls.googleapis.com",
    "aiplatform.googleapis.com",
    "aiplatform.mtls.googleapis.com",
    "*-aiplatform.googleapis.com",
    "*-aiplatform.mtls.googleapis.com",
    "ml.googleapis.com",
    "documentai.googleapis.com",
    "dialogflow.googleapis.com",
    "discoveryengine.googleapis.com",
    "api.openai.com",
    "openai.azure.com",
    "api.anthropic.com",
    "api.mistral.ai",
    "api.cohere.ai",
    "api.cohere.com",
    "api.groq.com",
    "api.together.xyz",
    "api.deepseek.com",
    "api.x.ai",
    "api.replicate.com",
    "api.stability.ai",
    "api-inference.huggingface.co",
    "router.huggingface.co",
    # Google Cloud's other model APIs: each would see the text or media it is given.
    "translate.googleapis.com",
    "translation.googleapis.com",
    "language.googleapis.com",
    "speech.googleapis.com",
    "*-speech.googleapis.com",
    "texttospeech.googleapis.com",
    "vision.googleapis.com",
    "videointelligence.googleapis.com",
)
_SERVICE_TOKENS = re.compile(r"[.-]")


def google_ai_service(host: str) -> str | None:
    """The Google AI service ``host`` reaches, if it is one: under any of Google's API domains,
    whatever its form (``aiplatform``, ``aiplatform.mtls``, ``us-central1-aiplatform``,
    ``us-central1-aiplatform.mtls``, ``aiplatform.us-central1.rep``, ``aiplatform-x.p``). Every
    label and every dash-separated part of the name before the domain counts: a host that
    names an AI service anywhere is refused (failing closed)."""
    name = host.strip().lower().rstrip(".")
    for domain in GOOGLE_API_DOMAINS:
        if name.endswith("." + domain):
            prefix = name[: -len(domain) - 1]
            for token in _SERVICE_TOKENS.split(prefix):
                if token in GOOGLE_AI_SERVICES:
                    return token
    return None
