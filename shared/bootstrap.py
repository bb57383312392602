"""The composition root: builds adapters from settings, lazily, once per process.

Handlers declare what they need by parameter name (``store``, ``bus``, ``blobs``,
``planner``, ``images``, ``videos``, ``notifier``, ``ledger``, ``settings``);
``Container.call`` injects exactly those, so a function builds only the clients it uses
(cold starts are billed and felt).

One client per cloud service per process: every Firestore adapter gets ``firestore`` (one
metered client), the bus and the dead-letter tools share ``publisher``; each is built on first
use, under the container's lock.

Every outbound client is built through ``egress``, the process's one egress policy
(``shared.providers.egress.EgressPolicy``): in scenario B each HTTP client goes through the
guard and each google SDK client's endpoint is checked before it is used.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from shared.config import Settings
from shared.domain.tale import TaleRecord

if TYPE_CHECKING:
    from google.cloud.firestore import Client as FirestoreClient

    from shared.adapters.email.sending import Transport
    from shared.auth.local import LocalSigner
    from shared.auth.tokens import TokenVerifier
    from shared.providers.egress import EgressPolicy
    from shared.trends.explain import TrendExplainer
    from shared.trends.youtube import YouTubeClient
from shared.ports.audit import AuditLog
from shared.ports.billing import BillingBook
from shared.ports.blobs import BlobStore
from shared.ports.bus import EventBus
from shared.ports.claims import Claims
from shared.ports.dead_letters import DeadLetterQueue
from shared.ports.generators import ImageGenerator, Planner, VideoGenerator
from shared.ports.keys import KeyWrapper
from shared.ports.ledger import Ledger
from shared.ports.notifier import Notifier
from shared.ports.payments import Payments
from shared.ports.records import TaleRecords, public_view
from shared.ports.store import TaleStore
from shared.ports.trends import TrendStore
from shared.ports.usage import UsageRecorder
from shared.ports.voices import VoiceGenerator

T = TypeVar("T")


class Container:
    """Lazily built adapters for one process (thread-safe)."""

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self.settings = settings
        self._built: dict[str, Any] = dict(overrides)
        self._lock = threading.RLock()

    def _get(self, name: str, factory: Callable[[], T]) -> T:
        """The adapter built once under ``name`` (or the override given for it)."""
        with self._lock:
            if name not in self._built:
                self._built[name] = factory()
            # what ``factory`` built, or an override the caller vouches for
            return cast(T, self._built[name])

    @property
    def home(self) -> Path:
        return self.settings.home.resolve()

    @property
    def on_gcp(self) -> bool:
        return self.settings.gcp_project is not None

    def _gcp(self, what: str) -> str:
        """The project, after checking the settings GCP mode needs."""
        s = self.settings
        missing = [
            n
            for n, v in (("TALE_MEDIA_BUCKET", s.media_bucket), ("TALE_KMS_KEY", s.kms_key))
            if not v
        ]
        if missing:
            raise RuntimeError(f"{what} on GCP needs {', '.join(missing)}")
        assert s.gcp_project is not None
        return s.gcp_project

    @property
    def egress(self) -> EgressPolicy:
        """The egress policy every outbound client is built through (enforced in scenario B:
        ``TALE_EGRESS_ALLOW``, validated here, once)."""

        def build() -> EgressPolicy:
            from shared.providers.egress import EgressPolicy

            return EgressPolicy.for_scenario(self.settings.scenario, self.settings.egress_allow)

        return self._get("egress", build)

    def _sdk(self, client: T) -> T:
        """A google SDK client whose endpoint the egress policy accepts."""
        return self.egress.check_sdk_client(client)

    @property
    def firestore(self) -> FirestoreClient:
        """The process's one Firestore client, shared by the tale store, claims, usage, audit
        and trend store; its billable operations count into the invocation's meter
        (``shared.adapters.gcp.firestore_metering``)."""

        def build() -> FirestoreClient:
            from shared.adapters.gcp.firestore_metering import MeteredClient

            return self._sdk(
                MeteredClient(
                    project=self._gcp("Firestore"), database=self.settings.firestore_database
                )
            )

        return self._get("firestore", build)

    @property
    def publisher(self) -> Any:
        """The process's one Pub/Sub ``PublisherClient`` (the bus, dead-letter replays)."""

        def build() -> Any:
            from shared.adapters.gcp.pubsub_bus import publisher_client

            self._gcp("Pub/Sub")
            return self._sdk(publisher_client())

        return self._get("publisher", build)

    @property
    def subscriber(self) -> Any:
        """The process's one Pub/Sub ``SubscriberClient`` (the operators' dead letters)."""

        def build() -> Any:
            from google.cloud import pubsub_v1

            self._gcp("Pub/Sub")
            return self._sdk(pubsub_v1.SubscriberClient())

        return self._get("subscriber", build)

    @property
    def store(self) -> TaleStore:
        def build() -> TaleStore:
            records = self.records

            def mirror(tale: TaleRecord) -> None:
                records.upsert(public_view(tale))

            if self.on_gcp:
                from shared.adapters.gcp.firestore_store import FirestoreTaleStore

                return FirestoreTaleStore(self.firestore, keys=self.keys, on_change=mirror)
            from shared.adapters.local.store import SqliteTaleStore

            return SqliteTaleStore(self.home / "state.db", keys=self.keys, on_change=mirror)

        return self._get("store", build)

    @property
    def claims(self) -> Claims:
        """Markers, work claims and counters that are not about one tale."""

        def build() -> Claims:
            if self.on_gcp:
                from shared.adapters.gcp.firestore_claims import FirestoreClaims

                return FirestoreClaims(self.firestore)
            from shared.adapters.local.claims import SqliteClaims

            return SqliteClaims(self.home / "state.db")

        return self._get("claims", build)

    @property
    def records(self) -> TaleRecords:
        """The user-facing tale records (Supabase ``public.tales`` or local SQLite)."""

        def build() -> TaleRecords:
            s = self.settings
            if s.supabase_url and s.supabase_service_key:
                from shared.adapters.supabase.records import SupabaseTaleRecords

                return SupabaseTaleRecords.from_settings(
                    s.supabase_url, s.supabase_service_key, http=self._supabase_http
                )
            from shared.adapters.local.records import SqliteTaleRecords

            return SqliteTaleRecords(self.home / "records.db")

        return self._get("records", build)

    @property
    def usage(self) -> UsageRecorder:
        """What each provider call consumed, per tale (cost reports)."""

        def build() -> UsageRecorder:
            if self.on_gcp:
                from shared.adapters.gcp.firestore_usage import FirestoreUsage

                return FirestoreUsage(self.firestore)
            from shared.adapters.local.usage import SqliteUsage

            return SqliteUsage(self.home / "usage.db")

        # Every provider call is also logged (a provider.call record, shared/observability).
        from shared.observability.usage import ObservedUsage

        return self._get("usage", lambda: ObservedUsage(build()))

    @property
    def keys(self) -> KeyWrapper:
        """The key-encryption key that wraps each story's data key (local key file)."""

        def build() -> KeyWrapper:
            if self.on_gcp:
                from shared.adapters.gcp.kms_keys import KmsKeyWrapper

                self._gcp("story encryption")
                assert self.settings.kms_key is not None
                return KmsKeyWrapper.from_settings(self.settings.kms_key, check=self._sdk)
            from shared.adapters.local.keys import LocalKeyFile

            return LocalKeyFile(self.home / "keys")

        return self._get("keys", build)

    @property
    def bus(self) -> EventBus:
        def build() -> EventBus:
            if self.on_gcp:
                from shared.adapters.gcp.pubsub_bus import PubSubBus

                # the publisher (a gRPC channel) is made on the first publish
                return PubSubBus(
                    None, self._gcp("the event bus"), make_publisher=lambda: self.publisher
                )
            from shared.adapters.local.bus import BusPolicy, SqliteEventBus
            from shared.registry import DEAD_LETTER_TOPIC, subscriptions

            s = self.settings
            policy = BusPolicy(
                s.max_delivery_attempts,
                s.retry_min_backoff_s,
                s.retry_max_backoff_s,
                s.ack_deadline_s,
                DEAD_LETTER_TOPIC,
            )
            return SqliteEventBus(self.home / "bus.db", subscriptions(), policy)

        return self._get("bus", build)

    @property
    def dead_letters(self) -> DeadLetterQueue:
        """Where operators find and replay dead letters (the local bus keeps its own)."""

        def build() -> DeadLetterQueue:
            if self.on_gcp:
                from shared.adapters.gcp.dead_letters import PubSubDeadLetters

                return PubSubDeadLetters(
                    self.subscriber,
                    self.publisher,
                    self._gcp("dead letters"),
                    self.settings.dead_letter_subscription,
                )
            bus = self.bus
            assert isinstance(bus, DeadLetterQueue)
            return bus

        return self._get("dead_letters", build)

    @property
    def blobs(self) -> BlobStore:
        def build() -> BlobStore:
            if self.on_gcp:
                from shared.adapters.gcp.gcs_blobs import GcsBlobStore

                project = self._gcp("the blob store")
                assert self.settings.media_bucket is not None
                return GcsBlobStore.from_settings(
                    project,
                    self.settings.media_bucket,
                    signer_email=self.settings.signer_email,
                    check=self._sdk,
                )
            from shared.adapters.local.blobs import DEFAULT_BASE_URL, FilesystemBlobStore

            base_url = self.settings.public_url or DEFAULT_BASE_URL
            return FilesystemBlobStore(self.home / "blobs", base_url=base_url)

        return self._get("blobs", build)

    @property
    def planner(self) -> Planner:
        def build() -> Planner:
            if self.settings.scenario == "B":
                from shared.providers.selfhosted.planner import OpenAICompatiblePlanner

                s = self.settings
                if not s.planner_url:
                    raise RuntimeError("scenario B needs TALE_PLANNER_URL (the vLLM server)")
                return OpenAICompatiblePlanner(
                    self.egress.http_client(),
                    s.planner_url,
                    s.planner_model,
                    self.usage,
                    self.audit,
                    max_attempts=s.planner_max_attempts,
                    api_key=s.planner_api_key,
                    max_output_tokens=s.planner_output_tokens,
                    tokens_per_s=s.planner_tokens_per_s,
                )
            if self.settings.scenario == "A":
                from shared.providers.google.planner import GeminiPlanner

                s = self.settings
                return GeminiPlanner(
                    self.genai, s.gemini_model, self.usage, max_attempts=s.planner_max_attempts
                )
            from shared.providers.offline.planner import OfflinePlanner

            return OfflinePlanner()

        return self._get("planner", build)

    @property
    def images(self) -> ImageGenerator:
        def build() -> ImageGenerator:
            if self.settings.scenario == "B":
                from shared.providers.selfhosted.worker_images import WorkerImages

                return WorkerImages()
            if self.settings.scenario == "A":
                from shared.providers.google.images import GeminiImages

                return GeminiImages(self.genai, self.settings.image_model, self.usage)
            from shared.providers.offline.images import OfflineImageGenerator

            return OfflineImageGenerator(font=self.settings.font)

        return self._get("images", build)

    @property
    def voices(self) -> VoiceGenerator:
        """The narrator: a Gemini speech model (A), the GPU worker's Bark (B: voiced in the
        tale's job), espeak-ng in the embedded default (a placeholder voice)."""

        def build() -> VoiceGenerator:
            s = self.settings
            if s.scenario == "B":
                from shared.providers.selfhosted.worker_voices import WorkerVoices

                return WorkerVoices(s.gpu_voice, defaults=s.voice_defaults)
            if s.scenario == "A":
                from shared.providers.google.voices import GeminiVoices

                return GeminiVoices(self.genai_speech, s.tts_model, defaults=s.voice_defaults)
            from shared.providers.offline.voices import EspeakVoices

            return EspeakVoices(defaults=s.voice_defaults)

        return self._get("voices", build)

    @property
    def videos(self) -> VideoGenerator:
        def build() -> VideoGenerator:
            s = self.settings
            if s.scenario == "B":
                from shared.providers.selfhosted.gpu_job import GpuJobVideos

                if not s.gpu_job:
                    raise RuntimeError("scenario B needs TALE_GPU_JOB (the Cloud Run GPU job)")
                store = self.store

                def log(tale_id: str, message: str) -> None:
                    store.log(tale_id, "rendering", message)

                return GpuJobVideos.from_settings(
                    s.gpu_job,
                    self.blobs,
                    check=self._sdk,
                    claims=self.claims,
                    log=log,
                    tasks=s.gpu_tasks,
                    model=s.gpu_pipeline,
                )
            if s.scenario == "A":
                from shared.providers.google.images import GeminiImages
                from shared.providers.google.veo import VeoVideos

                gcs = f"gs://{s.media_bucket}" if self.on_gcp and s.media_bucket else None
                images = self.images
                return VeoVideos(
                    self.genai,
                    s.veo_model,
                    self.blobs,
                    claims=self.claims,
                    requests_per_minute=s.veo_requests_per_minute,
                    resolution=s.veo_resolution,
                    audio=s.veo_audio,
                    person_generation=s.veo_person_generation,
                    frames=images if isinstance(images, GeminiImages) else None,
                    output_gcs_uri=gcs,
                )
            from shared.providers.offline.videos import OfflineVideoGenerator

            return OfflineVideoGenerator(
                self.blobs,
                height=s.offline_height,
                fps=s.offline_fps,
                delay_s=s.offline_shot_delay_s,
                font=s.font,
            )

        return self._get("videos", build)

    @property
    def notifier(self) -> Notifier:
        """Email: SendGrid or an SMTP relay (``TALE_EMAIL_PROVIDER``), each message sent at
        most once; or ``outbox``: .eml files (the home's outbox/, the media bucket on GCP)."""

        def build() -> Notifier:
            s = self.settings
            if s.email_provider != "outbox":
                from shared.adapters.email.sending import SendingNotifier
                from shared.ports import claims as keys

                claims = self.claims
                return SendingNotifier(
                    self._email_transport(),
                    marked=lambda name: claims.marked(keys.email_sent(name)),
                    mark=lambda name: claims.claim_once(keys.email_sent(name)),
                )
            from shared.adapters.local.outbox import BlobOutboxNotifier, OutboxNotifier

            if self.on_gcp:
                return BlobOutboxNotifier(self.blobs, s.email_from)
            return OutboxNotifier(self.home / "outbox", s.email_from)

        return self._get("notifier", build)

    def _email_transport(self) -> Transport:
        s = self.settings
        if s.email_provider == "sendgrid":
            if not s.email_api_key:
                raise RuntimeError("TALE_EMAIL_PROVIDER=sendgrid needs TALE_EMAIL_API_KEY")
            from shared.adapters.email.sendgrid import SendGridTransport, host_of

            http = self.egress.http_client(host_of(s.sendgrid_url), timeout=s.email_timeout_s)
            return SendGridTransport(http, s.email_api_key, s.email_from, s.sendgrid_url)
        from shared.adapters.email.smtp import SmtpTransport

        if not s.smtp_host:
            raise RuntimeError("TALE_EMAIL_PROVIDER=smtp needs TALE_SMTP_HOST (the relay)")
        self.egress.check_host(s.smtp_host)  # scenario B: the relay must be allowed
        return SmtpTransport(
            s.smtp_host,
            s.smtp_port,
            sender=s.email_from,
            security=s.smtp_security,
            username=s.smtp_username,
            password=s.email_api_key,
            timeout_s=s.email_timeout_s,
            ca_file=s.smtp_ca_file,
        )

    @property
    def ledger(self) -> Ledger:
        def build() -> Ledger:
            s = self.settings
            if s.supabase_url and s.supabase_service_key:
                from shared.adapters.supabase.ledger import SupabaseLedger

                return SupabaseLedger.from_settings(
                    s.supabase_url, s.supabase_service_key, http=self._supabase_http
                )
            from shared.adapters.local.ledger import SqliteLedger

            return SqliteLedger(self.home / "ledger.db")

        return self._get("ledger", build)

    @property
    def billing(self) -> BillingBook:
        """The billing side of the ledger's database (Supabase ``billing.*`` or SQLite)."""

        def build() -> BillingBook:
            s = self.settings
            if s.supabase_url and s.supabase_service_key:
                from shared.adapters.supabase.billing import SupabaseBilling

                return SupabaseBilling.from_settings(
                    s.supabase_url, s.supabase_service_key, http=self._supabase_http
                )
            from shared.adapters.local.billing import SqliteBilling
            from shared.adapters.local.ledger import SqliteLedger

            ledger = self.ledger
            if not isinstance(ledger, SqliteLedger):
                raise RuntimeError("the local billing book needs the local ledger")
            return SqliteBilling(ledger)

        return self._get("billing", build)

    @property
    def payments(self) -> Payments:
        """Stripe with ``TALE_STRIPE_SECRET_KEY`` (through the egress policy, Stripe's API
        host added); otherwise, in the embedded default only, the local provider — a test
        double that sends Stripe-shaped signed events to the same webhook handler."""

        def build() -> Payments:
            s = self.settings
            if s.stripe_secret_key:
                from shared.adapters.stripe.http import STRIPE_API_HOST
                from shared.adapters.stripe.payments import StripePayments

                http = self.egress.http_client(STRIPE_API_HOST, timeout=s.stripe_timeout_s)
                return StripePayments(
                    s.stripe_secret_key,
                    s.stripe_webhook_secret or "",
                    s.stripe_prices,
                    http,
                    tolerance_s=s.stripe_webhook_tolerance_s,
                )
            if self.on_gcp:
                raise RuntimeError("payments on GCP need TALE_STRIPE_SECRET_KEY (Stripe)")
            from shared.adapters.local.blobs import DEFAULT_BASE_URL
            from shared.adapters.local.payments import LocalPayments, local_secret
            from shared.api.payment_events import deliver

            return LocalPayments(
                self.home / "payments.db",
                local_secret(self.home / "keys"),
                s.plan_prices_usd,
                base_url=s.public_url or DEFAULT_BASE_URL,
                deliver=lambda payload, headers: deliver(payload, headers, self),
            )

        return self._get("payments", build)

    @property
    def verifier(self) -> TokenVerifier:
        """Supabase access tokens (JWKS + legacy HS256) or, locally, tokens of ``signer``."""

        def build() -> TokenVerifier:
            s = self.settings
            if s.supabase_url:
                from shared.auth.jwks import JwksSource, jwks_url
                from shared.auth.tokens import TokenVerifier

                issuer = s.supabase_url.rstrip("/") + "/auth/v1"
                http = self.egress.http_client(_host(s.supabase_url), timeout=5.0)
                jwks = JwksSource(jwks_url(issuer), http)
                return TokenVerifier(
                    issuer=issuer, jwks=jwks, hs256_secret=s.supabase_jwt_secret or None
                )
            signer = self.signer
            assert signer is not None
            return signer.verifier()

        return self._get("verifier", build)

    @property
    def signer(self) -> LocalSigner | None:
        """The local development token signer; None when Supabase issues the tokens."""

        def build() -> LocalSigner | None:
            if self.settings.supabase_url:
                return None
            from shared.auth.local import LocalSigner

            return LocalSigner(self.home / "keys")

        return self._get("signer", build)

    @property
    def genai(self) -> Any:
        """The google-genai client in Vertex mode (scenario A), built on first use."""

        def build() -> Any:
            if self.settings.scenario == "B":
                raise RuntimeError(
                    "scenario B keeps every story inside the project: "
                    "external AI providers are refused"
                )
            from shared.providers.google.client import make_client

            s = self.settings
            project = s.vertex_project or s.gcp_project
            if not project:
                raise RuntimeError("scenario A needs TALE_VERTEX_PROJECT or TALE_GCP_PROJECT")
            return make_client(project, s.vertex_location, retry_attempts=s.provider_retry_attempts)

        return self._get("genai", build)

    @property
    def genai_speech(self) -> Any:
        """The google-genai client for the speech model's location (``TALE_TTS_LOCATION``:
        the Gemini TTS models are served in ``global``, ``us`` and ``eu`` only); the one
        ``genai`` client when the locations are the same."""

        def build() -> Any:
            s = self.settings
            if s.tts_location == s.vertex_location or s.scenario == "B":
                return self.genai  # the one client, or the refusal of scenario B
            from shared.providers.google.client import make_client

            project = s.vertex_project or s.gcp_project
            if not project:
                raise RuntimeError("scenario A needs TALE_VERTEX_PROJECT or TALE_GCP_PROJECT")
            return make_client(project, s.tts_location, retry_attempts=s.provider_retry_attempts)

        return self._get("genai_speech", build)

    @property
    def audit(self) -> AuditLog:
        """One record per inference: who, when, which tale, a hash of the prompt, the model."""

        def build() -> AuditLog:
            if self.on_gcp:
                from shared.adapters.gcp.firestore_audit import FirestoreAudit

                return FirestoreAudit(self.firestore)
            from shared.adapters.local.audit import SqliteAudit

            return SqliteAudit(self.home / "audit.db")

        return self._get("audit", build)

    @property
    def trends(self) -> TrendStore:
        """The trend scout's store: snapshots, quota spend, trends, followers, API keys."""

        def build() -> TrendStore:
            if self.on_gcp:
                from shared.adapters.gcp.firestore_trends import FirestoreTrendStore

                return FirestoreTrendStore(self.firestore)
            from shared.adapters.local.trends import SqliteTrendStore

            return SqliteTrendStore(self.home / "trends.db")

        return self._get("trends", build)

    @property
    def youtube(self) -> YouTubeClient:
        """The YouTube Data API v3 client (``TALE_YOUTUBE_API_KEY``); scenario B's goes
        through the egress guard with the API's host allowed."""

        def build() -> YouTubeClient:
            from shared.domain.errors import PermanentError

            s = self.settings
            if not s.youtube_api_key:
                raise PermanentError(
                    "collecting trends needs TALE_YOUTUBE_API_KEY (a YouTube Data API v3 key)"
                )
            from shared.trends.youtube import YOUTUBE_HOST, YouTubeClient

            http = self.egress.http_client(YOUTUBE_HOST, timeout=30.0)
            return YouTubeClient(http, s.youtube_api_key)

        return self._get("youtube", build)

    @property
    def explainer(self) -> TrendExplainer:
        """Writes trends up: Gemini (A), the self-hosted model (B), the offline summariser."""

        def build() -> TrendExplainer:
            s = self.settings
            if s.scenario == "B":
                from shared.providers.selfhosted.trend_explainer import (
                    OpenAICompatibleTrendExplainer,
                )

                if not s.planner_url:
                    raise RuntimeError("scenario B needs TALE_PLANNER_URL (the vLLM server)")
                return OpenAICompatibleTrendExplainer(
                    self.egress.http_client(),
                    s.planner_url,
                    s.planner_model,
                    self.usage,
                    self.audit,
                    max_attempts=s.planner_max_attempts,
                    api_key=s.planner_api_key,
                )
            if s.scenario == "A":
                from shared.providers.google.trend_explainer import GeminiTrendExplainer

                return GeminiTrendExplainer(
                    self.genai, s.gemini_model, self.usage, max_attempts=s.planner_max_attempts
                )
            from shared.trends.explain import OfflineExplainer

            return OfflineExplainer()

        return self._get("explainer", build)

    def _supabase_http(self) -> Any:
        """The Supabase adapters' HTTP client (built when their client is)."""
        assert self.settings.supabase_url is not None
        return self.egress.http_client(_host(self.settings.supabase_url), timeout=10.0)

    def call(self, handler: Callable[..., None], payload: Any, **context: Any) -> None:
        """Call ``handler`` with ``payload`` and the dependencies it names; names in
        ``context`` (such as ``envelope``, the message being handled) take precedence."""
        names = _dependencies(handler)
        handler(payload, **{n: context[n] if n in context else getattr(self, n) for n in names})


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or url


@cache
def _dependencies(handler: Callable[..., None]) -> tuple[str, ...]:
    """The names of ``handler``'s parameters after the first (the payload)."""
    return tuple(inspect.signature(handler).parameters)[1:]


_container: Container | None = None
_container_lock = threading.Lock()


def container() -> Container:
    """The process's container, built from the environment on first use."""
    global _container
    with _container_lock:
        if _container is None:
            _container = Container(Settings())
        return _container


def configure(settings: Settings | None = None, **overrides: Any) -> Container:
    """Replace the process's container (the CLI's ``--home``, tests)."""
    global _container
    with _container_lock:
        _container = Container(settings or Settings(), **overrides)
        return _container
