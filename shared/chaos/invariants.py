"""What at-least-once delivery promises, checked on what a chaos run left behind.

Each invariant is a function ``(ChaosWorld) -> list[str]``: the violations it found, each a
line naming the tale (or message) and what is wrong; an empty list means it holds.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared.chaos.clips import decode_shots
from shared.chaos.world import ChaosWorld, TaleSpec
from shared.domain import markers
from shared.domain.credits import ledger_key
from shared.domain.tale import TaleRecord, TaleState
from shared.ports.ledger import LedgerEntry
from shared.registry import DEAD_LETTER_TOPIC

Invariant = Callable[[ChaosWorld], list[str]]
OUTCOMES = ("completed", "failed", "cancelled")
STITCH_LOG = "rendering → stitching"


def _tales(world: ChaosWorld) -> list[tuple[TaleSpec, TaleRecord | None]]:
    return [(spec, world.store.find(spec.tale_id)) for spec in world.submitted()]


def tales_terminal(world: ChaosWorld) -> list[str]:
    """Every tale ends completed, failed (with the stage and the reason) or cancelled, and the
    run settles before its deadline."""
    out = []
    if world.deadline_hit:
        out.append(f"the runtime still had work after the {world.deadline_s:.0f} s deadline")
    for spec, tale in _tales(world):
        if tale is None:
            out.append(f"{spec.tale_id}: not in the tale store")
        elif not tale.state.terminal:
            out.append(f"{spec.tale_id}: left {tale.state} (stage {tale.stage!r})")
        elif tale.state is TaleState.FAILED and not (tale.error_stage and tale.error_reason):
            out.append(f"{spec.tale_id}: failed without a stage and a reason")
    return out


def _video_problem(world: ChaosWorld, spec: TaleSpec, tale: TaleRecord) -> str | None:
    shots = world.store.shots(spec.tale_id)
    if len(shots) != spec.shots or [s.index for s in shots] != list(range(spec.shots)):
        return f"has {len(shots)} shot records for {spec.shots} shots"
    expected: list[int] = []
    for shot in shots:
        if shot.clip_path is None:
            return f"shot {shot.index + 1} has no clip"
        try:
            frames = decode_shots(world.blob_path(shot.clip_path))
        except Exception as exc:
            return f"shot {shot.index + 1}'s clip does not decode: {exc}"
        if not frames or set(frames) != {shot.index}:
            return f"shot {shot.index + 1}'s clip shows shots {sorted(set(frames))}"
        expected += frames
    for name in ("video", "poster", "storyboard"):
        path = tale.outputs.get(name)
        if path is None or not world.blob_path(path).is_file():
            return f"has no {name}"
    try:
        actual = decode_shots(world.blob_path(tale.outputs["video"]))
    except Exception as exc:
        return f"final video does not decode: {type(exc).__name__}: {exc}"
    if len(actual) != len(expected):
        return f"final video has {len(actual)} frames; its clips have {len(expected)}"
    if actual != expected:
        order = [k for i, k in enumerate(actual) if i == 0 or actual[i - 1] != k]
        return f"final video shows shots {[k + 1 for k in order]} in that order"
    return None


def videos_complete(world: ChaosWorld) -> list[str]:
    """Every completed tale's video decodes and holds all its shots, whole and in order (its
    frames are its clips' frames, each frame showing the shot it came from)."""
    out = []
    for spec, tale in _tales(world):
        if tale is not None and tale.state is TaleState.COMPLETED:
            problem = _video_problem(world, spec, tale)
            if problem:
                out.append(f"{spec.tale_id}: {problem}")
    return out


def paid_once(world: ChaosWorld) -> list[str]:
    """No shot attempt started two paid generations (the provider's own start log, and the
    store's count of recorded starts)."""
    out = [
        f"{tale}: shot {index + 1} attempt {attempt} started {n} paid generations"
        for (tale, index, attempt), n in sorted(world.videos.starts.items())
        if n > 1
    ]
    for spec in world.submitted():  # the store counts recorded starts over all attempts
        out += [
            f"{spec.tale_id}: shot {s.index + 1} recorded {s.starts} starts in {s.attempt} attempts"
            for s in world.store.shots(spec.tale_id)
            if s.starts > s.attempt
        ]
    return out


def stitched_once(world: ChaosWorld) -> list[str]:
    """The fan-in moved each tale to stitching at most once per cut (the first and each
    revision), and at least once for a completed tale (its event log counts the
    "rendering → stitching" lines)."""
    out = []
    for spec, tale in _tales(world):
        n = sum(STITCH_LOG in e.message for e in world.store.events(spec.tale_id))
        cuts = 1 + (tale.revision if tale is not None else 0)
        if n > cuts or (tale is not None and tale.state is TaleState.COMPLETED and n < 1):
            out.append(f"{spec.tale_id}: the fan-in requested stitching {n} times in {cuts} cuts")
    return out


def _tale_credits(spec: TaleSpec, state: TaleState | None, mine: list[LedgerEntry]) -> list[str]:
    """The ledger entries of one tale against its outcome."""
    if spec.lost:
        return _lost_credits(spec, mine)
    if not spec.submitted:
        return [f"{spec.tale_id}: refused (402) but has ledger entries"] if mine else []
    out = []
    kinds = Counter(e.kind for e in mine)
    if kinds["reserve"] != 1:
        out.append(f"{spec.tale_id}: reserved {kinds['reserve']} times")
    expected = {"reserve": -spec.cost, "refund": spec.cost, "settle": 0}
    wrong = [(e.kind, e.amount) for e in mine if e.amount != expected.get(e.kind, e.amount)]
    if wrong:
        out.append(f"{spec.tale_id}: wrong amounts {wrong}")
    closed = (kinds["settle"], kinds["refund"])
    if state is TaleState.COMPLETED:
        want = (1, 0)
    elif state in (TaleState.FAILED, TaleState.CANCELLED):
        want = (0, 1)
    else:
        want = (0, 0)
    if closed != want:
        out.append(f"{spec.tale_id}: {state} with {closed[0]} settlements and {closed[1]} refunds")
    return out


def _lost_credits(spec: TaleSpec, mine: list[LedgerEntry]) -> list[str]:
    """A tale the API never created holds no credits once the sweep ran: nothing reserved
    (it died before the reservation), or its reservation returned once (after it)."""
    kinds = Counter(e.kind for e in mine)
    if not mine or (kinds == {"reserve": 1, "refund": 1} and sum(e.amount for e in mine) == 0):
        return []
    held = -sum(e.amount for e in mine)
    return [f"{spec.tale_id}: never created, but its ledger has {dict(kinds)} ({held} held)"]


def _revision_credits(
    world: ChaosWorld, spec: TaleSpec, tale: TaleRecord | None, entries: list[LedgerEntry]
) -> tuple[list[str], int]:
    """Each revision reserved once (its cost) under its own key, then closed once: settled if
    it completed, refunded if it failed or was cancelled (an earlier revision, which the next
    one followed, settled or refunded; the current one by the tale's state). Returns the
    violations and the credits the revisions keep."""
    out, kept = [], 0
    current = tale.revision if tale is not None else 0
    for rev in world.revisions.get(spec.tale_id, []):
        key = ledger_key(spec.tale_id, rev.revision)
        kinds = Counter(e.kind for e in entries if e.tale_id == key)
        name = f"{spec.tale_id} revision {rev.revision}"
        reserved = [e.amount for e in entries if e.tale_id == key and e.kind == "reserve"]
        if reserved != [-rev.cost]:
            out.append(f"{name}: reserved {reserved} for a cost of {rev.cost}")
        closed = (kinds["settle"], kinds["refund"])
        if rev.revision < current or (tale is not None and tale.state.terminal):
            if rev.revision == current and tale is not None:
                want = [(1, 0)] if tale.state is TaleState.COMPLETED else [(0, 1)]
            else:
                want = [(1, 0), (0, 1)]
            if closed not in want:
                out.append(f"{name}: {closed[0]} settlements and {closed[1]} refunds")
        elif closed != (0, 0):
            out.append(f"{name}: unfinished with {closed[0]} settlements, {closed[1]} refunds")
        if closed[1] == 0:
            kept += rev.cost
    return out, kept


def credits_balanced(world: ChaosWorld) -> list[str]:
    """Credits: each tale reserved once (its cost), then settled once if it completed or
    refunded once if it failed or was cancelled — never both; each revision likewise under its
    own key; a tale the API never created (it died at the submission) holds nothing once the
    sweep returned its orphan reservation; every balance is the sum of its ledger, equals the
    grants less the cost of every tale and revision that was not refunded, and is never below
    zero."""
    out = []
    tales = {spec.tale_id: tale for spec, tale in _tales(world)}
    for user, granted in sorted(world.grants.items()):
        entries = world.ledger.entries(user)
        kept = 0
        for spec in (t for t in world.tales if t.owner == user):
            tale = tales.get(spec.tale_id)
            state = tale.state if tale is not None else None
            mine = [e for e in entries if e.tale_id == spec.tale_id]
            if world.revisions.get(spec.tale_id):
                # the first cut ended (completed, or cancelled once its video existed) before
                # the revision started: settled or refunded, whatever the tale is now
                state = (
                    TaleState.CANCELLED
                    if any(e.kind == "refund" for e in mine)
                    else TaleState.COMPLETED
                )
            out += _tale_credits(spec, state, mine)
            refunded = state in (TaleState.FAILED, TaleState.CANCELLED)
            if spec.submitted and not refunded:
                kept += spec.cost  # spent (completed) or still held (unfinished)
            problems, held = _revision_credits(world, spec, tale, entries)
            out += problems
            kept += held
        profile = world.ledger.profile(user)
        balance = profile.balance if profile is not None else 0
        total = sum(e.amount for e in entries)
        if balance != total:
            out.append(f"user {user}: balance {balance} but the ledger sums to {total}")
        if balance != granted - kept:
            out.append(
                f"user {user}: balance {balance}, expected {granted - kept} "
                f"(granted {granted}, {kept} held or spent)"
            )
        if balance < 0:
            out.append(f"user {user}: balance {balance} is below zero")
    return out


def messages_settled(world: ChaosWorld) -> list[str]:
    """Every delivery ends acked or dead, and every dead delivery went to the dead-letter
    topic and was handled there (or is itself a dead-letter delivery)."""
    out = []
    stats = world.bus.stats()
    for state in ("pending", "leased"):
        if stats.get(state):
            rows = world.bus.db.read(
                "SELECT d.subscription, m.attributes FROM deliveries d JOIN messages m "
                "USING (message_id) WHERE d.state=? ORDER BY m.seq LIMIT 5",
                (state,),
            )
            keys = [f"{r['subscription']} {json.loads(r['attributes']).get('key')}" for r in rows]
            out.append(f"{stats[state]} deliveries still {state}: {', '.join(keys)}")
    rows = world.bus.db.read(
        "SELECT d.subscription, d.state, m.topic, m.data, m.attributes FROM deliveries d "
        "JOIN messages m USING (message_id) ORDER BY m.seq"
    )
    forwarded: Counter[tuple[str, bytes]] = Counter()
    for r in rows:
        if r["topic"] == DEAD_LETTER_TOPIC and r["state"] in ("acked", "dead"):
            source = json.loads(r["attributes"]).get("CloudPubSubDeadLetterSourceSubscription")
            forwarded[(str(source), bytes(r["data"]))] += 1
    for r in rows:
        if r["state"] != "dead" or r["topic"] == DEAD_LETTER_TOPIC:
            continue
        slot = (str(r["subscription"]), bytes(r["data"]))
        if forwarded[slot] > 0:
            forwarded[slot] -= 1
        else:
            key = json.loads(r["attributes"]).get("key")
            out.append(f"dead {r['subscription']} delivery of {key} never reached the handler")
    return out


_EMAIL = re.compile(r"^(?P<tale>.+)-(?P<outcome>completed|failed|cancelled)(?:-v(?P<rev>\d+))?$")


def _outbox(folder: Path) -> dict[tuple[str, int], set[str]]:
    """(tale id, revision) → the outcomes emailed."""
    sent: dict[tuple[str, int], set[str]] = {}
    for path in folder.glob("*.eml") if folder.is_dir() else ():
        match = _EMAIL.match(path.stem)
        if match:
            key = (match["tale"], int(match["rev"] or 0))
            sent.setdefault(key, set()).add(match["outcome"])
    return sent


def _notified(world: ChaosWorld, tale_id: str, revision: int) -> set[str]:
    suffix = f":v{revision}" if revision else ""
    return {
        o
        for o in OUTCOMES
        if world.store.marked(tale_id, markers.notified(f"{tale_id}:finished:{o}{suffix}"))
    }


def notified_once(world: ChaosWorld) -> list[str]:
    """The owner is notified exactly once per cut, of how it ended: one email (outbox file)
    and one ``notified:`` marker for that outcome, none for any other — for the current cut
    the tale's terminal state, for an earlier one (a revision followed it) exactly one
    outcome — and the tale records where the email went."""
    out = []
    sent = _outbox(world.outbox)
    for spec, tale in _tales(world):
        current = tale.revision if tale is not None else 0
        for revision in range(current):
            emails, noted = (
                sent.get((spec.tale_id, revision), set()),
                _notified(world, spec.tale_id, revision),
            )
            if len(emails) != 1 or noted != emails:
                out.append(f"{spec.tale_id} cut {revision}: emails {emails}, markers {noted}")
        outcome = tale.state.value if tale is not None and tale.state.terminal else None
        emails = sent.get((spec.tale_id, current), set())
        if emails != ({outcome} if outcome else set()):
            out.append(f"{spec.tale_id}: {tale.state if tale else 'missing'}, emails {emails}")
        noted = _notified(world, spec.tale_id, current)
        if noted != ({outcome} if outcome else set()):
            out.append(f"{spec.tale_id}: {outcome or 'unfinished'}, notified markers {noted}")
        if outcome and tale is not None and "email" not in tale.outputs:
            out.append(f"{spec.tale_id}: {outcome}, but the tale does not record its email")
    return out


@dataclass(frozen=True)
class InvariantSpec:
    name: str
    title: str
    check: Invariant


INVARIANTS: tuple[InvariantSpec, ...] = (
    InvariantSpec("terminal", "every tale terminal", tales_terminal),
    InvariantSpec("video", "completed videos decode, all shots in order", videos_complete),
    InvariantSpec("paid-once", "no paid generation started twice", paid_once),
    InvariantSpec("stitch-once", "stitching requested once per tale", stitched_once),
    InvariantSpec("credits", "credits reserved once, settled xor refunded", credits_balanced),
    InvariantSpec("messages", "every message acked or dead-lettered", messages_settled),
    InvariantSpec("notified-once", "owner notified once per terminal state", notified_once),
)
