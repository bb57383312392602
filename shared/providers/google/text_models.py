"""The Gemini models the planner (and the trend explainer) may use on Vertex AI.

Checked on 2026-12-01 against:
- https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/model-versions
  (``gemini-3.5-flash``: released 2026-05-19, available until 2027-05-19 or later; the
  Gemini 2.5 models retired in October 2026);
- https://ai.google.dev/gemini-api/docs/deprecations (the Gemini API shut ``gemini-2.5-flash``
  down on 2026-12-01);
- https://cloud.google.com/vertex-ai/generative-ai/pricing (``gemini-3.5-flash``: $1.50 per
  million input tokens, $9.00 per million output tokens, thinking included);
- the model card: 1,048,576 input tokens, 65,536 output tokens, structured output (a response
  schema), thinking levels.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.errors import ModelUnavailable
from shared.providers.google.lifecycle import Retired
from shared.providers.google.lifecycle import unknown_reason as _unknown

CHECKED = "2026-12-01"
SOURCE = "https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/model-versions"
SETTING = "TALE_GEMINI_MODEL"


@dataclass(frozen=True)
class TextModel:
    model_id: str
    input_price_key: str
    output_price_key: str
    max_input_tokens: int = 1_048_576
    max_output_tokens: int = 65_536
    structured_output: bool = True
    """Accepts ``responseSchema`` with ``responseMimeType: application/json``."""


MODELS: dict[str, TextModel] = {
    m.model_id: m
    for m in (TextModel("gemini-3.5-flash", "gemini-3.5-flash-input", "gemini-3.5-flash-output"),)
}

RETIRED: dict[str, Retired] = {
    r.model_id: r
    for r in (
        Retired("gemini-2.5-flash", "2026-10-16", "gemini-3.5-flash"),
        Retired("gemini-2.5-pro", "2026-10-16", "gemini-3.5-flash"),
        Retired("gemini-2.5-flash-lite", "2026-10-16", "gemini-3.5-flash"),
        Retired("gemini-2.0-flash", "", "gemini-3.5-flash"),
        Retired("gemini-2.0-flash-001", "", "gemini-3.5-flash"),
        Retired("gemini-2.0-flash-lite", "", "gemini-3.5-flash"),
        Retired("gemini-1.5-flash", "", "gemini-3.5-flash"),
        Retired("gemini-1.5-pro", "", "gemini-3.5-flash"),
    )
}


def unknown_reason(model_id: str) -> str:
    return _unknown("Gemini", model_id, RETIRED, MODELS, SETTING)


def constraints(model_id: str) -> TextModel:
    """The text model's entry; ``ModelUnavailable`` for a retired or unknown one."""
    try:
        return MODELS[model_id]
    except KeyError:
        raise ModelUnavailable(unknown_reason(model_id)) from None
