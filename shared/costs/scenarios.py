"""Scenario A (external APIs) against scenario B (self-hosted GPUs) at a monthly volume.

Per video, each scenario has a variable cost; per month, B has a fixed cost (an always-on
planner server, weights, images — ``fixed_monthly`` in the price table) and A none:

    monthly(V) = fixed + V × variable
    break-even = (fixed_B − fixed_A) / (variable_A − variable_B)
                 (none when variable_A ≤ variable_B: B is then never cheaper)

- A's variable cost: planner tokens (Gemini), one reference image per character (the Gemini
  image model), every second of video (Veo), the narration (Gemini TTS: the lines' text tokens
  in, ``tts_audio_tokens_per_second`` audio tokens out per second of speech), and the
  platform's cloud operations.
- B's variable cost: GPU-seconds of the worker job — the video model's GPU-seconds per
  second of the clip it renders for each shot (``video_models`` in the table, for the
  deployment's model: ``rendering``), ``gpu_seconds_per_image`` per reference image,
  ``gpu_seconds_per_tale`` to start, ``voice_gpu_seconds_per_speech_second`` of Bark per
  second of narration — at the L4 job rate, plus the same platform cost. Planner tokens cost
  B nothing more: its planner server is in the fixed cost.

A tale whose voice is ``none`` has no narration, and its ``narration`` stage costs nothing.

The two decision signals of the business plan: the monthly volume is above break-even; and
A's external-API cost per video is above ``api_cost_share_threshold`` (60 %) of the revenue a
video brings at plan prices (``revenue`` in the table, tales a month from settings).

Each component says whether it is *observed* (the tales' usage records of that scenario's
engine) or *modelled* (work from the tales or the default tale, priced with the table).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from shared.config import Settings
from shared.costs.prices import Engine, PriceTable, ScenarioSpec
from shared.costs.profile import WorkProfile
from shared.costs.rendering import rendering_work

Basis = Literal["observed", "modelled"]


@dataclass(frozen=True)
class Component:
    stage: str
    usd: float
    basis: Basis
    detail: str


@dataclass(frozen=True)
class ScenarioCost:
    scenario: str
    variable: list[Component]
    """Per video, by stage."""
    fixed: dict[str, float]
    """Per month, by item."""

    @property
    def variable_usd(self) -> float:
        return sum(c.usd for c in self.variable)

    @property
    def fixed_usd(self) -> float:
        return sum(self.fixed.values())

    @property
    def api_usd(self) -> float:
        """What the models cost per video (everything but the platform)."""
        return sum(c.usd for c in self.variable if c.stage != "platform")

    def monthly(self, videos: float) -> float:
        return self.fixed_usd + videos * self.variable_usd


@dataclass(frozen=True)
class Comparison:
    volume: int
    """Videos a month (completed in the period)."""
    profile: WorkProfile
    a: ScenarioCost
    b: ScenarioCost
    revenue_per_video: float
    threshold: float
    unpriced: list[str] = field(default_factory=list)
    """Engine units the table has no meter for (priced as 0 here — fix the table)."""
    revenue_basis: str = "price table"
    """Where ``revenue_per_video`` comes from: the price table's placeholder plan prices, the
    plan prices in the settings, or the month's payments (``shared.costs.revenue``)."""

    @property
    def break_even(self) -> float | None:
        """Videos a month above which B is cheaper; None when B never is."""
        saving = self.a.variable_usd - self.b.variable_usd
        extra = self.b.fixed_usd - self.a.fixed_usd
        if saving <= 0:
            return None
        return max(0.0, extra / saving)

    @property
    def above_break_even(self) -> bool:
        return self.break_even is not None and self.volume > self.break_even

    @property
    def api_share(self) -> float | None:
        """A's API cost per video as a share of revenue per video (None: no revenue)."""
        return self.a.api_usd / self.revenue_per_video if self.revenue_per_video > 0 else None

    @property
    def api_over_threshold(self) -> bool:
        share = self.api_share
        return self.a.api_usd > 0 if share is None else share > self.threshold


def engines_from(prices: PriceTable, **models: str | None) -> dict[str, ScenarioSpec]:
    """The table's engines, with the models a deployment uses (settings) where given:
    ``gemini``, ``image``, ``veo``, ``tts`` (scenario A) and ``planner``, ``video``,
    ``gpu_voice`` (scenario B)."""

    def swap(engine: Engine, model: str | None) -> Engine:
        return engine if not model else engine.model_copy(update={"model": model})

    a, b = prices.scenarios["A"], prices.scenarios["B"]
    return {
        "A": ScenarioSpec(
            planner=swap(a.planner, models.get("gemini")),
            images=swap(a.images, models.get("image")),
            videos=swap(a.videos, models.get("veo")),
            voice=swap(a.voice, models.get("tts")),
        ),
        "B": ScenarioSpec(
            planner=swap(b.planner, models.get("planner")),
            images=b.images,
            videos=swap(b.videos, models.get("video")),
            voice=swap(b.voice, models.get("gpu_voice")),
        ),
    }


def deployment_engines(prices: PriceTable, settings: Settings) -> dict[str, ScenarioSpec]:
    """The table's engines with the models the settings deploy."""
    return engines_from(
        prices,
        gemini=settings.gemini_model,
        image=settings.image_model,
        veo=settings.veo_model,
        tts=settings.tts_model,
        planner=settings.planner_model,
        video=settings.gpu_pipeline,
        gpu_voice=settings.gpu_voice,
    )


class Pricer:
    """Prices engine units, noting every unit without a meter."""

    def __init__(self, prices: PriceTable) -> None:
        self.prices = prices
        self.unpriced: list[str] = []

    def __call__(self, engine: Engine, unit: str, quantity: float) -> float:
        usd = self.prices.usd(engine.provider, engine.model, unit, quantity)
        if usd is None:
            self.missing(f"{engine.provider}/{engine.model}/{unit}")
            return 0.0
        return usd

    def missing(self, name: str) -> None:
        """Note something the table cannot price (``provider/model/unit``)."""
        if name not in self.unpriced:
            self.unpriced.append(name)


def _basis(profile: WorkProfile, engine: Engine, unit: str) -> tuple[float | None, Basis]:
    used = profile.used(engine.provider, unit)
    return (used, "observed") if used else (None, "modelled")


def scenario_a(
    profile: WorkProfile, spec: ScenarioSpec, price: Pricer, prices: PriceTable
) -> ScenarioCost:
    tokens_in, tokens_out = profile.input_tokens, profile.output_tokens
    planning = price(spec.planner, "input_tokens", tokens_in.value) + price(
        spec.planner, "output_tokens", tokens_out.value
    )
    tokens_basis: Basis = "observed" if tokens_in.basis == "usage" else "modelled"
    images, images_basis = _basis(profile, spec.images, "images")
    n_images = profile.characters.value if images is None else images
    seconds, seconds_basis = _basis(profile, spec.videos, "video_seconds")
    n_seconds = profile.video_seconds.value if seconds is None else seconds
    return ScenarioCost(
        "A",
        [
            Component(
                "planning",
                planning,
                tokens_basis,
                f"{tokens_in.value:,.0f} in + {tokens_out.value:,.0f} out tokens, "
                f"{spec.planner.model}",
            ),
            Component(
                "characters",
                price(spec.images, "images", n_images),
                images_basis,
                f"{n_images:g} images, {spec.images.model}",
            ),
            Component(
                "rendering",
                price(spec.videos, "video_seconds", n_seconds),
                seconds_basis,
                f"{n_seconds:g} s of video, {spec.videos.model}",
            ),
            _narration_a(profile, spec.voice, price, prices),
            _platform(profile),
        ],
        {},
    )


def scenario_b(
    profile: WorkProfile, spec: ScenarioSpec, price: Pricer, prices: PriceTable
) -> ScenarioCost:
    a = prices.assumption
    planning = price(spec.planner, "input_tokens", profile.input_tokens.value) + price(
        spec.planner, "output_tokens", profile.output_tokens.value
    )
    gpu, gpu_basis = _basis(profile, spec.videos, "gpu_seconds")
    chars = profile.characters.value
    image_gpu = 0.0 if gpu is not None else chars * a("gpu_seconds_per_image")
    seconds = profile.video_seconds.value
    if gpu is not None:
        video_gpu, rendered = gpu, f"{seconds:g} s of video, {spec.videos.model}"
    else:
        work = rendering_work(profile, spec.videos, prices)
        if work.unpriced:
            price.missing(work.unpriced)
        video_gpu = work.gpu_seconds + a("gpu_seconds_per_tale")
        rendered = work.describe(seconds, spec.videos.model)
    return ScenarioCost(
        "B",
        [
            Component(
                "planning", planning, "modelled", f"{spec.planner.model} (fixed planner server)"
            ),
            Component(
                "characters",
                price(spec.videos, "gpu_seconds", image_gpu),
                gpu_basis,
                f"{image_gpu:,.0f} GPU-s for {chars:g} images, {spec.images.model}",
            ),
            Component(
                "rendering",
                price(spec.videos, "gpu_seconds", video_gpu),
                gpu_basis,
                f"{video_gpu:,.0f} GPU-s: {rendered}",
            ),
            _narration_b(profile, spec.voice, price, prices),
            _platform(profile),
        ],
        prices.fixed_usd("B"),
    )


def _speech(profile: WorkProfile) -> str:
    n = profile.narration
    return f"{n.lines:g} lines, {n.seconds:,.1f} s of speech"


def _narration_a(
    profile: WorkProfile, voice: Engine, price: Pricer, prices: PriceTable
) -> Component:
    """The speech model's text tokens in and audio tokens out: recorded by ``narrate_shot``
    where they exist, else the narration's characters and seconds of speech."""
    a, n = prices.assumption, profile.narration
    audio = profile.narrator_used(voice.provider, "audio_tokens")
    basis: Basis = "observed" if audio else "modelled"
    if audio:
        text = profile.narrator_used(voice.provider, "input_tokens") or 0.0
    else:
        text = n.characters * a("story_tokens_per_char") + n.lines * a(
            "narration_style_tokens_per_line"
        )
        audio = n.seconds * a("tts_audio_tokens_per_second")
    usd = price(voice, "input_tokens", text) + price(voice, "audio_tokens", audio)
    detail = f"{_speech(profile)}: {text:,.0f} text + {audio:,.0f} audio tokens, {voice.model}"
    return Component("narration", usd, basis, detail)


def _narration_b(
    profile: WorkProfile, voice: Engine, price: Pricer, prices: PriceTable
) -> Component:
    """Bark's GPU-seconds on the worker: recorded by the worker (``voice:<index>``) where
    they exist, else the seconds of speech at ``voice_gpu_seconds_per_speech_second``."""
    gpu = profile.narrator_used(voice.provider, "gpu_seconds")
    basis: Basis = "observed" if gpu else "modelled"
    if not gpu:
        gpu = profile.narration.seconds * prices.assumption("voice_gpu_seconds_per_speech_second")
    detail = f"{_speech(profile)}: {gpu:,.0f} GPU-s, {voice.model}"
    return Component("narration", price(voice, "gpu_seconds", gpu), basis, detail)


def _platform(profile: WorkProfile) -> Component:
    observed: Basis = "observed" if profile.platform_usd.basis == "usage" else "modelled"
    return Component("platform", profile.platform_usd.value, observed, "cloud operations")


def revenue_per_video(prices: PriceTable, tales_per_month: dict[str, int]) -> float:
    """Plan revenue per video, weighted by the table's mix of videos by plan."""
    total = 0.0
    for plan in prices.revenue.plans:
        if plan.share_of_videos == 0:
            continue
        tales = tales_per_month.get(plan.plan, 0)
        if tales <= 0:
            raise ValueError(f"the {plan.plan} plan has videos in the mix but no tales a month")
        total += plan.share_of_videos * prices.price(plan.price).usd_per_unit / tales
    return total


def compare(
    profile: WorkProfile,
    volume: int,
    prices: PriceTable,
    tales_per_month: dict[str, int],
    specs: dict[str, ScenarioSpec] | None = None,
    revenue: tuple[float, str] | None = None,
) -> Comparison:
    """``revenue``: revenue per video and its basis, instead of the table's plan prices."""
    specs = specs or engines_from(prices)
    price = Pricer(prices)
    a = scenario_a(profile, specs["A"], price, prices)
    b = scenario_b(profile, specs["B"], price, prices)
    return Comparison(
        volume=volume,
        profile=profile,
        a=a,
        b=b,
        revenue_per_video=revenue[0] if revenue else revenue_per_video(prices, tales_per_month),
        threshold=prices.assumption("api_cost_share_threshold"),
        unpriced=price.unpriced,
        revenue_basis=revenue[1] if revenue else "price table",
    )
