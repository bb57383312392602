"""Stage ``collect_shots`` (trigger: ``shot.rendered``): the fan-in.

Each completion is counted in one store transaction; the completion that finds every shot
rendered moves the tale to stitching (compare-and-set) and its logical key becomes the tale's
fan-in key. Only an event with that key publishes ``stitch.requested`` — so stitching is
requested once, and a redelivery of that same event re-publishes it if the first publish was
lost.
"""

from __future__ import annotations

from schemas.events import ShotRendered, StitchRequested
from shared.ports.bus import EventBus
from shared.ports.store import TaleStore
from shared.stages.common import require_tale


def collect_shots(event: ShotRendered, store: TaleStore, bus: EventBus) -> None:
    tale_id = event.tale_id
    tale = require_tale(store, tale_id)
    if tale.state.terminal:
        return
    result = store.fan_in(tale_id, event.shot_index, event.attempt, event.key)
    if result.fan_in_key == event.key:
        bus.publish(StitchRequested(tale_id=tale_id, revision=tale.revision))
