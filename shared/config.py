"""Settings from environment variables (prefix ``TALE_``), read once by the composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TALE_", extra="ignore")

    home: Path = Field(
        default=Path(".tale"), description="Local state and media (embedded default)."
    )
    max_story_chars: int = Field(default=20_000, ge=100)
    owner: str = Field(default="local-user", description="Owner of tales submitted from the CLI.")
    owner_email: str = Field(
        default="you@localhost",
        description="Where operator runs (tales of TALE_OWNER, from the CLI) are notified; "
        "a user's tale goes to the address of the user's profile.",
    )

    # Email (shared/adapters/email): "outbox" keeps .eml files (the home's outbox/, or the
    # media bucket on GCP) and sends nothing; "sendgrid" and "smtp" send.
    email_provider: Literal["outbox", "sendgrid", "smtp"] = "outbox"
    email_from: str = Field(
        default="Tale <noreply@tale.local>",
        description="The From address (with SendGrid, a verified sender or authenticated domain).",
    )
    email_api_key: str | None = Field(
        default=None, description="SendGrid API key (a secret); with smtp, the relay's password."
    )
    email_timeout_s: float = Field(default=20.0, gt=0, le=120)
    sendgrid_url: str = Field(
        default="https://api.sendgrid.com",
        description="SendGrid's API (EU regional subusers: https://api.eu.sendgrid.com).",
    )
    smtp_host: str | None = Field(default=None, description="The SMTP relay (provider smtp).")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls (587), tls (implicit, 465) or none (a local relay).",
    )
    smtp_username: str | None = Field(default=None, description="Login name; none: no login.")
    smtp_ca_file: Path | None = Field(
        default=None, description="CA certificates to trust for the relay (a private relay)."
    )

    # Local bus (Pub/Sub semantics).
    concurrency: int = Field(default=8, ge=1, le=64)
    max_delivery_attempts: int = Field(default=5, ge=1, le=100)
    retry_min_backoff_s: float = Field(default=0.5, ge=0)
    retry_max_backoff_s: float = Field(default=10.0, ge=0)
    ack_deadline_s: float = Field(default=600.0, gt=0)
    sweep_interval_s: float = Field(
        default=60.0, gt=0, description="How often the local runtime looks for stuck tales."
    )

    # Shot rendering.
    shot_poll_budget_s: float = Field(
        default=480.0, gt=0, description="Poll a provider this long, then hand over."
    )
    shot_poll_interval_s: float = Field(default=5.0, gt=0)

    # Offline generators (placeholders for the models).
    offline_height: int = Field(
        default=640,
        ge=64,
        le=2160,
        description="Frame height of offline clips; width follows the aspect ratio.",
    )
    offline_fps: int = Field(default=24, ge=1, le=60)
    offline_shot_delay_s: float = Field(
        default=0.0, ge=0, description="Extra latency per shot (benchmarks)."
    )
    font: Path | None = Field(default=None, description="A TrueType/OpenType font with Hangul.")

    # Plans and credits (a default tale of 8 shots × 8 s costs 8 credits; see domain/credits).
    free_tales_per_month: int = Field(default=2, ge=0)
    pro_tales_per_month: int = Field(default=20, ge=0)
    business_tales_per_month: int = Field(default=100, ge=0)
    anonymous_credits: bool = Field(
        default=False,
        description="Grant the plan's monthly credits to anonymous sign-ins (is_anonymous in "
        "the token or the sign-up webhook). Off: they get a profile and no credits, so "
        "anonymous sign-in cannot be used to farm free tales.",
    )

    # Unit economics (shared/costs): prices with their sources, meters, scenario assumptions.
    price_table: Path = Field(
        default=Path(__file__).resolve().parent / "costs" / "prices.json",
        description="The versioned price table (default: the packaged shared/costs/prices.json).",
    )

    # HTTP API.
    api_rate_per_minute: int = Field(default=60, ge=1, description="Requests per user and minute.")
    api_max_running_tales: int = Field(default=3, ge=1, description="Unfinished tales per user.")
    max_revisions: int = Field(
        default=5, ge=0, le=100, description="Revisions a finished tale may have."
    )
    api_max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    cors_origin: str = Field(default="http://localhost:3000", description="The frontend's origin.")
    video_url_ttl_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="Where browsers reach `tale serve` (embedded default): the base of its "
        "signed media URLs. Unset: the address `tale serve` listens on "
        "(http://127.0.0.1:8080).",
    )
    web_dir: Path | None = Field(
        default=None,
        description="The web app's build that `tale serve` serves at / (default: web/dist of "
        "this checkout, which ./install.sh builds).",
    )
    supabase_anon_key: str | None = Field(
        default=None,
        description="The Supabase project's public anon (publishable) key: `tale serve` gives "
        "it to the web app's sign-in with TALE_SUPABASE_URL (not a secret; never the service "
        "key).",
    )
    events_poll_s: float = Field(
        default=1.0, gt=0, le=30, description="How often an events stream reads the tale."
    )
    events_heartbeat_s: float = Field(
        default=15.0, gt=0, description="A comment line this often keeps proxies from closing."
    )
    events_max_s: float = Field(
        default=600.0,
        gt=0,
        le=3300,
        description="An events stream closes after this long and clients reconnect with "
        "Last-Event-ID (on GCP, also before the api function's timeout).",
    )

    # Budgets (shared/api/budget.py): a monthly spending cap per tenant, in USD.
    spend_cap_usd: float = Field(default=100.0, ge=0, description="Default monthly cap.")
    spend_caps_usd: dict[str, float] = Field(
        default_factory=dict, description="Per-user caps (JSON: user id → USD)."
    )

    # Narration: the voice of each language when a submission names none (JSON: {"ko": "Kore"});
    # each must be one of the scenario's voices. Unset: the voice table's first.
    voice_defaults: dict[str, str] = Field(
        default_factory=dict, description="A default narrator voice per language."
    )

    # Generators: "offline" placeholders (default), "A" Google models, "B" self-hosted.
    scenario: Literal["offline", "A", "B"] = "offline"
    vertex_project: str | None = Field(default=None, description="Default: TALE_GCP_PROJECT.")
    vertex_location: str = "us-central1"
    # Model ids change under us: each is checked against its provider's dated table
    # (shared/providers/google/{text,image,veo}_models.py) and by `tale doctor`.
    gemini_model: str = Field(
        default="gemini-3.5-flash", description="The planner and the trend explainer."
    )
    image_model: str = Field(
        default="gemini-3.1-flash-image",
        description="Character references and composed first frames (Imagen is retired).",
    )
    veo_model: str = "veo-3.1-generate-001"
    veo_resolution: Literal["720p", "1080p"] = "720p"
    veo_audio: bool = False
    veo_person_generation: Literal["allow_adult", "dont_allow", "allow_all"] = Field(
        default="allow_adult",
        description="Veo's personGeneration: allow_adult is Vertex AI's documented default; "
        "allow_all needs the project's approval.",
    )
    veo_requests_per_minute: int = Field(default=10, ge=1, description="Shared across instances.")
    tts_model: str = Field(
        default="gemini-3.8-flash-tts",
        description="The narrator (shared/providers/google/tts_models.py).",
    )
    tts_location: str = Field(
        default="global",
        description="Where the speech model is served: global, us or eu (not regional).",
    )
    planner_max_attempts: int = Field(default=3, ge=1, le=10)
    provider_retry_attempts: int = Field(default=5, ge=1, le=20)

    # Scenario B: self-hosted models inside the project.
    gpu_job: str | None = Field(default=None, description="projects/P/locations/L/jobs/J")
    gpu_tasks: int = Field(default=4, ge=1, le=100, description="Tasks per tale execution.")
    gpu_pipeline: str = Field(
        default="wan2.1-t2v-1.3b",
        description="The video model: an id of shared/providers/selfhosted/video_models.py "
        "(what it renders is checked at submission). The default renders 9:16 natively.",
    )
    gpu_weights: str | None = Field(default=None, description="Video model weights (path/gs://).")
    gpu_image_weights: str | None = Field(default=None, description="SDXL/Flux weights.")
    gpu_voice: str = Field(
        default="bark-small",
        description="The narrator the GPU worker loads (TALE_GPU_VOICE_WEIGHTS): an id of "
        "shared/providers/selfhosted/tts_models.py.",
    )
    planner_url: str | None = Field(default=None, description="OpenAI-compatible server (vLLM).")
    planner_model: str = "Qwen/Qwen2.5-7B-Instruct"
    planner_api_key: str | None = None
    planner_output_tokens: int = Field(
        default=4096, ge=256, le=32_768, description="The plan's token budget (max_tokens)."
    )
    planner_tokens_per_s: float = Field(
        default=15.0,
        gt=0,
        description="The planner server's decode rate for one stream: with the token budget "
        "it sizes the answer's deadline (below plan_story's timeout).",
    )
    egress_allow: list[str] = Field(
        default_factory=list, description="Hosts of our own endpoints HTTP clients may reach."
    )

    # Logs (shared/observability): "auto" is Cloud Logging JSON on GCP, a console format locally.
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="json: one Cloud Logging JSON object per line."
    )

    # Google Cloud. Unset: the embedded default. Set: Pub/Sub, Firestore, Cloud Storage.
    gcp_project: str | None = Field(default=None, description="Runs on GCP when set.")
    media_bucket: str | None = Field(default=None, description="Cloud Storage bucket for media.")
    firestore_database: str = "(default)"
    dead_letter_subscription: str = Field(
        default="dead-letter-hold",
        description="The operators' pull subscription on tale.dead-letter (terraform/pubsub.tf).",
    )
    signer_email: str | None = Field(
        default=None, description="Service account that signs URLs (IAM signBlob); default: own."
    )
    kms_key: str | None = Field(
        default=None, description="Cloud KMS key that wraps story data keys (required on GCP)."
    )

    # Supabase (accounts, credits, auth). Unset: the embedded default (local ledger and keys).
    supabase_url: str | None = None
    supabase_service_key: str | None = None
    supabase_jwt_secret: str | None = Field(default=None, description="Legacy HS256 secret.")
    webhook_secret: str | None = Field(default=None, description="Standard Webhooks v1,whsec_…")

    # Payments (shared/billing, docs/deploy.md): Stripe when TALE_STRIPE_SECRET_KEY is set;
    # otherwise the embedded default's local provider (a test double; refused on GCP).
    stripe_secret_key: str | None = Field(default=None, description="Stripe API key (a secret).")
    stripe_webhook_secret: str | None = Field(
        default=None, description="The Stripe webhook endpoint's signing secret (whsec_…)."
    )
    stripe_prices: dict[str, str] = Field(
        default_factory=dict,
        description='The Stripe price of each paid plan (JSON: {"pro": "price_…", '
        '"business": "price_…"}).',
    )
    stripe_webhook_tolerance_s: int = Field(
        default=300, ge=1, le=3600, description="Oldest Stripe-Signature timestamp accepted."
    )
    stripe_timeout_s: float = Field(default=20.0, gt=0, le=120)
    billing_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^?#\s]+$",
        description="The web app's billing page: where Checkout and the portal return, and "
        "what billing mail links to. Unset: TALE_CORS_ORIGIN + /billing.",
    )
    billing_grace_days: int = Field(
        default=7,
        ge=0,
        le=60,
        description="After a failed renewal the plan is kept this long while the payment is "
        "retried (set Stripe's retry schedule to end with it).",
    )
    plan_prices_usd: dict[str, float] = Field(
        default_factory=lambda: {"pro": 15.0, "business": 49.0},
        description="Monthly list price of each paid plan (costs: revenue before real "
        "payments exist; the local provider's invoices).",
    )

    # Trend scout: YouTube Shorts statistics (YouTube Data API v3; docs/trends.md).
    youtube_api_key: str | None = Field(
        default=None, description="YouTube Data API v3 key (a secret; collection needs it)."
    )
    youtube_daily_quota: int = Field(
        default=10_000, ge=100, description="Units a day (all but search.list); stops before it."
    )
    youtube_daily_searches: int = Field(
        default=100, ge=1, description="search.list calls a day (their own bucket)."
    )
    trends_regions: list[str] = Field(
        default_factory=lambda: ["KR", "US"], description="ISO 3166-1 alpha-2 region codes."
    )
    trends_chart_categories: list[str] = Field(
        default_factory=lambda: ["", "15", "22", "23", "24", "26"],
        description='Regional charts: video category ids ("" = all categories).',
    )
    trends_chart_pages: int = Field(default=1, ge=1, le=4, description="Chart pages of 50.")
    trends_niches: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "food": ["ko:먹방", "en:recipe"],
            "pets": ["ko:반려동물", "en:pets"],
        },
        description="Seed queries per niche; a ko:/en: prefix limits one to that language's "
        "regions.",
    )
    trends_search_pages: int = Field(default=1, ge=1, le=10, description="Pages of 50 a query.")
    trends_search_order: Literal["relevance", "date", "viewCount"] = "relevance"
    trends_lookback_hours: int = Field(
        default=48, ge=1, le=24 * 14, description="Search and re-measure videos this recent."
    )
    trends_window_hours: int = Field(
        default=24, ge=1, le=24 * 7, description="Keyword rise: this window against the one before."
    )
    trends_min_gap_minutes: int = Field(
        default=120, ge=1, le=24 * 60, description="Snapshots compared at least this far apart."
    )
    trends_track_limit: int = Field(
        default=200, ge=0, le=2000, description="Known videos re-measured per region and run."
    )
    trends_track_max_age_hours: int = Field(
        default=168, ge=1, description="Videos older than this are no longer re-measured."
    )
    trends_baseline_channels: int = Field(
        default=20, ge=0, le=500, description="Channel baselines sized per collection (2 units)."
    )
    trends_baseline_hours: int = Field(
        default=24, ge=1, description="A channel baseline is refreshed after this long."
    )
    trends_retention_days: int = Field(default=14, ge=1, le=365, description="Snapshots kept.")
    trends_top: int = Field(default=10, ge=1, le=50, description="Trends kept per analysis.")
    trends_free_top: int = Field(
        default=3, ge=0, le=50, description="Trends a free plan sees per region and day."
    )
    trends_key_rate_per_minute: int = Field(
        default=120, ge=1, description="Requests a minute per business API key (default)."
    )
    trends_key_monthly_calls: int = Field(
        default=100_000, ge=1, description="Calls a month per business API key (default)."
    )
    trends_key_days: int = Field(default=365, ge=1, description="A new key expires after this.")
    trends_key_grace_days: int = Field(
        default=7, ge=0, le=90, description="A rotated key keeps working this long."
    )
    trends_api_url: str = Field(
        default="http://127.0.0.1:8080",
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="Where mail clients reach the API (the digest's one-click unsubscribe).",
    )
    trends_unsubscribe_secret: str | None = Field(
        default=None,
        description="Signs digest unsubscribe links (a secret; required on GCP; embedded "
        "default: a key file in the home).",
    )

    def monthly_credits(self, plan: str) -> int:
        """Credits a plan grants each month: its tales per month × the default tale's cost."""
        from shared.domain.credits import tale_cost

        tales = {
            "free": self.free_tales_per_month,
            "pro": self.pro_tales_per_month,
            "business": self.business_tales_per_month,
        }[plan]
        return tales * tale_cost(8, 8)
