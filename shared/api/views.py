"""Response bodies of the API, as pydantic models (they also feed the OpenAPI document)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.domain.tale import ShotRecord, TaleRecord


class ShotView(BaseModel):
    index: int
    attempt: int
    status: str


class CostEstimate(BaseModel):
    """What the tale is expected to cost to make (USD), by stage, with the price table used."""

    usd: float
    by_stage: dict[str, float]
    scenario: str
    price_table: str


class TaleView(BaseModel):
    id: str
    title: str
    status: str
    stage: str
    progress: int = Field(ge=0, le=100)
    language: str
    shot_count: int
    error_stage: str | None = None
    error_reason: str | None = None
    has_video: bool
    created_at: float
    updated_at: float
    shots: list[ShotView] | None = None
    estimate: CostEstimate | None = None
    """Before and during generation (with the storyboard once it exists)."""

    @classmethod
    def of(cls, tale: TaleRecord, shots: list[ShotRecord] | None = None) -> TaleView:
        return cls(
            id=tale.tale_id,
            title=tale.title,
            status=tale.state.value,
            stage=tale.stage,
            progress=tale.progress,
            language=tale.language,
            shot_count=tale.shot_count,
            error_stage=tale.error_stage,
            error_reason=tale.error_reason,
            has_video="video" in tale.outputs,
            created_at=tale.created_at,
            updated_at=tale.updated_at,
            shots=None
            if shots is None
            else [ShotView(index=s.index, attempt=s.attempt, status=s.status.value) for s in shots],
        )


class TaleList(BaseModel):
    tales: list[TaleView]


class VideoLink(BaseModel):
    url: str
    expires_in: int


class Usage(BaseModel):
    period: str
    tales_started: int
    credits_spent: int


class Me(BaseModel):
    user_id: str
    email: str
    plan: str
    balance: int
    monthly_credits: int
    usage: Usage


class Accepted(BaseModel):
    id: str
    status: str
