"""The API's endpoints: method, path pattern, handler, summary and success status.

``app`` routes requests with this table and ``openapi`` documents it; both import it, so
neither imports the other to find the routes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.api import billing, music, quote, revisions, routes, storyboard_edit
from shared.api import trends as trend_routes
from shared.domain.music import MAX_MUSIC_BYTES, MAX_MUSIC_SECONDS

Handler = Callable[[routes.Call], Any]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler
    summary: str
    status: int = 200
    api_key: bool = False
    """Also open to business API keys (``X-API-Key``), each with its own rate limit."""
    public: bool = False
    """No authentication (the request carries its own proof, e.g. a signed token); rate
    limited per client address."""
    max_body: int | None = None
    """The most body bytes it reads, when not ``TALE_API_MAX_BODY_BYTES`` (a declared larger
    body is refused unread, before authentication)."""

    @property
    def regex(self) -> re.Pattern[str]:
        literal = re.escape(self.pattern)  # "captions.srt" is a dot, not any character
        return re.compile(
            "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[A-Za-z0-9_-]{1,64})", literal) + "$"
        )


ROUTES: tuple[Route, ...] = (
    Route("POST", "/v1/tales", routes.create_tale, "Create a tale (reserves its credits)", 201),
    Route("GET", "/v1/tales", routes.list_tales, "List my tales"),
    Route("GET", "/v1/tales/{tale_id}", routes.get_tale, "Get one tale with its shots"),
    Route("POST", "/v1/tales/{tale_id}/approve", routes.approve_tale, "Approve the storyboard"),
    Route("POST", "/v1/tales/{tale_id}/cancel", routes.cancel_tale, "Cancel a tale"),
    Route(
        "POST",
        "/v1/tales/{tale_id}/shots/{shot}/regenerate",
        routes.regenerate_shot,
        "Render one shot again",
    ),
    Route(
        "GET",
        "/v1/tales/{tale_id}/video",
        routes.video_link,
        "A time-limited signed URL for the video",
    ),
    Route(
        "GET",
        "/v1/tales/{tale_id}/captions.srt",
        routes.captions_srt,
        "The captions of the narration as SubRip (application/x-subrip)",
    ),
    Route(
        "GET",
        "/v1/tales/{tale_id}/captions.vtt",
        routes.captions_vtt,
        "The captions of the narration as WebVTT (text/vtt)",
    ),
    Route(
        "PUT",
        "/v1/tales/{tale_id}/music",
        music.put_music,
        "Set the tale's background music: the audio file itself as the body "
        f"(at most {MAX_MUSIC_BYTES // (1024 * 1024)} MiB and {MAX_MUSIC_SECONDS // 60} minutes)",
        201,
        max_body=MAX_MUSIC_BYTES,
    ),
    Route(
        "DELETE",
        "/v1/tales/{tale_id}/music",
        music.delete_music,
        "Remove the tale's background music",
        204,
    ),
    Route(
        "POST",
        "/v1/tales/{tale_id}/revisions",
        revisions.create_revision,
        "Revise a finished tale: render chosen shots again and re-stitch",
        202,
    ),
    Route(
        "GET",
        "/v1/tales/{tale_id}/revisions",
        revisions.list_revisions,
        "The tale's cuts, each with a signed URL of its video",
    ),
    Route(
        "GET",
        "/v1/tales/{tale_id}/storyboard",
        routes.get_storyboard,
        "The storyboard: characters, scenes and shots, with signed URLs of their media",
    ),
    Route(
        "PATCH",
        "/v1/tales/{tale_id}/storyboard",
        storyboard_edit.edit_storyboard,
        "Edit the storyboard before approving it (If-Match: its ETag)",
    ),
    Route(
        "GET",
        "/v1/tales/{tale_id}/events",
        routes.tale_events,
        "The tale's progress as server-sent events (text/event-stream)",
    ),
    Route("GET", "/v1/me", routes.me, "My plan, balance and usage"),
    Route(
        "POST",
        "/v1/billing/checkout",
        billing.checkout,
        "Subscribe to a paid plan: a checkout session to send the browser to",
    ),
    Route(
        "POST",
        "/v1/billing/portal",
        billing.portal,
        "Manage the subscription: a portal session (plan, cancel, payment method, invoices)",
    ),
    Route(
        "GET",
        "/v1/estimate",
        quote.estimate,
        "What a tale would cost before it is submitted: credits, balance and USD estimate",
    ),
    Route(
        "GET",
        "/v1/trends",
        trend_routes.list_trends,
        "Rising YouTube Shorts trends (access token or X-API-Key)",
        api_key=True,
    ),
    Route(
        "GET",
        "/v1/trends/usage",
        trend_routes.trend_usage,
        "This month's metered calls of the customer's business API keys",
        api_key=True,
    ),
    Route(
        "GET",
        "/v1/trends/unsubscribe",
        trend_routes.unsubscribe_preview,
        "Whom a digest's unsubscribe link would remove (changes nothing)",
        public=True,
    ),
    Route(
        "POST",
        "/v1/trends/unsubscribe",
        trend_routes.unsubscribe,
        "One-click unsubscribe from the trend digest (RFC 8058; a signed token, no login)",
        public=True,
    ),
    Route(
        "GET",
        "/v1/trends/{trend_id}",
        trend_routes.get_trend,
        "One trend with its story ideas (access token or X-API-Key)",
        api_key=True,
    ),
    Route(
        "POST",
        "/v1/trends/{trend_id}/tales",
        trend_routes.create_trend_tale,
        "Start a tale (its storyboard) from a trend's story idea",
        201,
    ),
)
