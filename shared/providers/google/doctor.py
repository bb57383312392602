"""``tale doctor`` for scenario A: do the configured Google models exist, and do they accept
the configured settings?

Two kinds of evidence:
- Tale's own tables (``text_models``, ``image_models``, ``veo_models``, ``tts_models``, dated
  and sourced): a retired id, a Veo resolution or audio setting the model refuses, or a
  default tale (9:16, 8-second shots) the video model cannot render;
- Vertex AI itself: one metadata call per model (``client.models.get``, a GET on
  ``publishers/google/models/<model>``; nothing is generated or paid). A 404 means the project
  cannot use that model in its location.

Without a project or credentials nothing can be asked of Vertex AI: the report says what is
missing (and the command exits 2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

from google import genai
from google.auth import exceptions as auth_exceptions
from google.genai import errors as genai_errors

from shared.config import Settings
from shared.domain.errors import PermanentError
from shared.providers.google import image_models, text_models, tts_models, veo_models
from shared.providers.google.client import SDK_ERRORS

#: The tale ``tale run`` and the API submit when nothing else is asked for.
DEFAULT_ASPECT_RATIO, DEFAULT_SHOT_SECONDS = "9:16", 8


@dataclass(frozen=True)
class Finding:
    role: str
    """What the model is for: planner, images, videos."""
    model: str
    ok: bool
    detail: str
    where: str = "table"
    """``table`` (Tale's dated table) or ``vertex`` (a metadata call)."""


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Configuration or credentials without which Vertex AI cannot be asked."""

    @property
    def exit_code(self) -> int:
        if self.missing:
            return 2
        return 0 if all(f.ok for f in self.findings) else 1


def models(settings: Settings) -> dict[str, str]:
    """The configured model of each role."""
    return {
        "planner": settings.gemini_model,
        "images": settings.image_model,
        "videos": settings.veo_model,
    }


def table_findings(settings: Settings) -> list[Finding]:
    """What Tale's tables say about the configured models and settings."""
    found = [
        _in_table("planner", settings.gemini_model, text_models),
        _in_table("images", settings.image_model, image_models),
        _in_table("voices", settings.tts_model, tts_models),
    ]
    veo = veo_models.MODELS.get(settings.veo_model)
    if veo is None:
        reason = veo_models.unknown_reason(settings.veo_model)
        return [*found, Finding("videos", settings.veo_model, False, reason)]
    try:
        veo_models.validate(
            veo,
            duration=DEFAULT_SHOT_SECONDS,
            aspect_ratio=DEFAULT_ASPECT_RATIO,
            resolution=settings.veo_resolution,
            audio=settings.veo_audio,
            person_generation=settings.veo_person_generation,
        )
    except PermanentError as exc:
        return [*found, Finding("videos", veo.model_id, False, str(exc))]
    detail = (
        f"{', '.join(veo.aspect_ratios)}; {', '.join(map(str, veo.durations))} s; "
        f"{settings.veo_resolution} (TALE_VEO_RESOLUTION), audio "
        f"{'on' if settings.veo_audio else 'off'}, personGeneration "
        f"{settings.veo_person_generation}; references: "
        + (
            f"up to {veo.max_reference_images} at "
            f"{'/'.join(veo.reference_aspect_ratios)}, "
            f"{'/'.join(map(str, veo.reference_durations))} s (else a composed first frame)"
            if veo.reference_images
            else "none (a composed first frame)"
        )
    )
    return [*found, Finding("videos", veo.model_id, True, detail)]


def _in_table(role: str, model: str, table: ModuleType) -> Finding:
    if model in table.MODELS:
        return Finding(role, model, True, f"in Tale's table (checked {table.CHECKED})")
    return Finding(role, model, False, table.unknown_reason(model))


def missing_configuration(settings: Settings) -> list[str]:
    if settings.vertex_project or settings.gcp_project:
        return []
    return ["a Google Cloud project: set TALE_VERTEX_PROJECT (or TALE_GCP_PROJECT)"]


NO_CREDENTIALS = (
    "Google credentials: run `gcloud auth application-default login`, or set "
    "GOOGLE_APPLICATION_CREDENTIALS to a service account key (on Google Cloud the runtime's "
    "service account is used)"
)


def vertex_findings(settings: Settings, client: genai.Client) -> tuple[list[Finding], list[str]]:
    """One metadata call per configured model; the missing credentials, if any."""
    found: list[Finding] = []
    where = f"{settings.vertex_project or settings.gcp_project}/{settings.vertex_location}"
    for role, model in models(settings).items():
        try:
            meta = client.models.get(model=model)
        except auth_exceptions.DefaultCredentialsError:
            return found, [NO_CREDENTIALS]
        except genai_errors.APIError as exc:
            detail = (
                f"Vertex AI does not serve it in {where} (404 {exc.status or 'NOT_FOUND'})"
                if exc.code == 404
                else f"{exc.code} {exc.status or ''}: {exc.message or ''}".strip()
            )
            found.append(Finding(role, model, False, detail, "vertex"))
            continue
        except SDK_ERRORS as exc:
            found.append(Finding(role, model, False, f"{type(exc).__name__}: {exc}", "vertex"))
            continue
        version = f" version {meta.version}" if meta.version else ""
        found.append(Finding(role, model, True, f"served in {where}{version}", "vertex"))
    return found, []


def check(settings: Settings, client: Callable[[], genai.Client]) -> Report:
    """The tables, then (with a project and credentials) Vertex AI."""
    report = Report(findings=table_findings(settings), missing=missing_configuration(settings))
    if report.missing:
        return report
    found, missing = vertex_findings(settings, client())
    report.findings += found
    report.missing += missing
    return report
