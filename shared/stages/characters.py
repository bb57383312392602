"""Stage ``render_characters`` (trigger: ``characters.requested``): one reference image per
character, then the fan-out — one ``shot.requested`` per shot.

Idempotent: the first message claims the work (a duplicate publish drops itself); characters
that already have an image are skipped; shot records are created only
if missing; rendered shots are not requested again.
"""

from __future__ import annotations

from schemas.events import CharactersRequested, NarrationRequested, ShotRequested
from shared.domain import markers
from shared.domain.tale import ShotStatus, TaleState, progress
from shared.ports.blobs import BlobStore
from shared.ports.bus import EventBus
from shared.ports.generators import ImageGenerator
from shared.ports.store import TaleStore
from shared.pubsub_message import Envelope
from shared.stages.common import require_plan, require_tale, tale_prefix


def render_characters(
    event: CharactersRequested,
    store: TaleStore,
    images: ImageGenerator,
    blobs: BlobStore,
    bus: EventBus,
    envelope: Envelope,
) -> None:
    tale_id = event.tale_id
    tale = require_tale(store, tale_id)
    if tale.state is not TaleState.RENDERING:
        return
    if (
        store.claim(event.tale_id, markers.handling(event.key), envelope.message_id)
        != envelope.message_id
    ):
        return  # a duplicate: the holder's delivery draws (paid images are not drawn twice)
    plan = require_plan(store, tale_id)
    done = store.characters(tale_id)
    for number, character in enumerate(plan.characters):
        if character.name in done or images.deferred:
            continue
        path = f"{tale_prefix(tale_id)}/characters/{number:02d}.png"
        blobs.put_bytes(
            path, images.character_reference(character, plan, tale_id=tale_id), "image/png"
        )
        store.record_character(tale_id, character.name, path)
        store.log(tale_id, "characters", f"reference image for {character.name}")
    store.init_shots(tale_id, len(plan.shots), voices=True)
    store.update(
        tale_id, stage="shots", progress=progress(TaleState.RENDERING, characters_done=True)
    )
    shots = store.shots(tale_id)
    bus.publish_many(
        ShotRequested(tale_id=tale_id, shot_index=shot.index, attempt=shot.attempt)
        for shot in shots
        if shot.status is not ShotStatus.RENDERED
    )
    bus.publish_many(
        NarrationRequested(tale_id=tale_id, shot_index=shot.index, revision=tale.revision)
        for shot in shots
        if shot.voice_path is None
    )
