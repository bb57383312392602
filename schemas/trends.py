"""Messages of the trend scout. They are control messages, not tale events: no tale id.

``trends.collect`` is published by Cloud Scheduler (``{}``: every region in the settings) or
by an operator (``{"region": "KR"}``). ``trends.collected`` is published by
``collect_trends`` once per region collected, and tells ``analyze_trends`` which collection
to analyse. Unknown fields are ignored, as for every Tale message.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

REGION = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 region code.")


class CollectTrends(BaseModel):
    """Collect the statistics of recent Shorts now."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str] = "trends.collect"
    version: Literal[1] = 1
    region: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="One region; all when omitted."
    )


class TrendsCollected(BaseModel):
    """A region's collection is stored: analyse it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str] = "trends.collected"
    version: Literal[1] = 1
    region: str = REGION
    collection_id: str = Field(
        pattern=r"^[A-Z]{2}-\d{8}T\d{4}Z$", description="Region and slot, e.g. KR-20250601T0400Z."
    )
    at: float = Field(ge=0, description="When the collection measured (Unix seconds).")
    status: str = Field(default="collected", max_length=40)
    sample: bool = Field(default=False, description="From the shipped sample data set.")

    @property
    def key(self) -> str:
        return f"trends:{self.collection_id}"
