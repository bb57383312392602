"""The narrator's voice is chosen at submission from the scenario's own list: an unknown voice
is refused before anything is created or reserved (``UnknownVoice``: 422 with the voices
offered), the lists are static tables (no provider client is built to answer), and the
composition root builds the narrator of each scenario."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app

from shared import bootstrap
from shared.config import Settings
from shared.domain.errors import InvalidStory, UnknownVoice
from shared.providers.google import tts_models
from shared.providers.google.voices import GeminiVoices
from shared.providers.offline.voices import EspeakVoices
from shared.providers.selfhosted.worker_voices import WorkerVoices
from shared.providers.voice_options import check_voice, offered_voices
from shared.usecases.submit_tale import SubmitTale, submit_tale
from tests.conftest import make_submission
from tests.fake_ledger import MemoryLedger
from tests.fakes import FakeBus, InMemoryClaims, InMemoryTaleStore

ROOT = Path(__file__).resolve().parents[2]
KO = "달이 뜬 밤, 토끼가 떡을 찧었다. 아이들이 달을 보았다."


def settings(tmp_path: Path, scenario: str = "offline", **kw: Any) -> Settings:
    extra: dict[str, Any] = {"vertex_project": "tale-test"} if scenario == "A" else {}
    return Settings(home=tmp_path / "home", scenario=scenario, **extra, **kw)


def submit(s: Settings, voice: str, text: str | None = None) -> InMemoryTaleStore:
    store = InMemoryTaleStore()
    kw: dict[str, Any] = {"options": {"voice": voice}}
    if text:
        kw["text"] = text
    submit_tale(
        SubmitTale(make_submission(2, **kw), str(uuid.uuid4()), "a@example.com"),
        store=store,
        bus=FakeBus(),
        claims=InMemoryClaims(),
        ledger=MemoryLedger(),
        settings=s,
    )
    return store


@pytest.mark.parametrize(
    ("scenario", "language", "voice"),
    [
        ("offline", "en", "en-gb"),
        ("offline", "ko", "ko"),
        ("A", "ko", "Kore"),
        ("A", "en", "Sulafat"),
        ("B", "ko", "ko_speaker_3"),
        ("B", "en", "en_speaker_6"),
    ],
)
def test_the_scenarios_voices_are_admitted(
    tmp_path: Path, scenario: str, language: str, voice: str
) -> None:
    text = KO if language == "ko" else None
    store = submit(settings(tmp_path, scenario), voice, text)
    (tale,) = store.list_tales(limit=10)
    assert store.submission(tale.tale_id).options.voice == voice


@pytest.mark.parametrize("scenario", ["offline", "A", "B"])
@pytest.mark.parametrize("voice", ["", "none"])
def test_empty_and_none_are_always_admitted(tmp_path: Path, scenario: str, voice: str) -> None:
    assert len(submit(settings(tmp_path, scenario), voice).list_tales(limit=10)) == 1


@pytest.mark.parametrize(
    ("scenario", "voice"),
    [("offline", "Kore"), ("A", "en-us"), ("B", "Kore"), ("B", "ko_speaker_3")],
    ids=["offline-gemini-voice", "a-espeak-voice", "b-gemini-voice", "b-other-language"],
)
def test_another_scenarios_or_languages_voice_is_refused_with_the_list(
    tmp_path: Path, scenario: str, voice: str
) -> None:
    s = settings(tmp_path, scenario)
    store, ledger, owner = InMemoryTaleStore(), MemoryLedger(), str(uuid.uuid4())
    with pytest.raises(UnknownVoice) as refused:
        submit_tale(
            SubmitTale(make_submission(2, options={"voice": voice}), owner, "a@example.com"),
            store=store,
            bus=FakeBus(),
            claims=InMemoryClaims(),
            ledger=ledger,
            settings=s,
        )
    assert isinstance(refused.value, InvalidStory)
    assert refused.value.voices == offered_voices(s, "en")
    assert f"no voice {voice!r} for en stories" in str(refused.value)
    assert store.list_tales(limit=10) == [] and ledger.entries(owner) == []


def test_the_configured_default_comes_first_and_an_unknown_default_is_ignored(
    tmp_path: Path,
) -> None:
    s = settings(tmp_path, "A", voice_defaults={"ko": "Kore", "en": "Nobody"})
    assert offered_voices(s, "ko")[0] == "Kore"
    assert offered_voices(s, "en")[0] == "Sulafat"
    assert offered_voices(settings(tmp_path), "en") == ("en-us", "en-gb")
    assert offered_voices(settings(tmp_path, "B"), "zh")[0] == "zh_speaker_0"
    check_voice(s, "ja", "Achernar")  # every Gemini voice speaks every language


def test_before_the_language_is_known_a_voice_of_any_language_passes(tmp_path: Path) -> None:
    """``GET /v1/estimate`` without a language: the text that decides it is not sent yet."""
    b = settings(tmp_path, "B")
    check_voice(b, None, "ja_speaker_3")
    with pytest.raises(UnknownVoice) as named:
        check_voice(b, "en", "ja_speaker_3")
    assert named.value.voices == offered_voices(b, "en")
    with pytest.raises(UnknownVoice) as unknown:
        check_voice(b, None, "xx_speaker_0")
    every = [v for lang in ("ko", "en", "ja", "zh") for v in offered_voices(b, lang)]
    assert list(unknown.value.voices) == every
    assert "for ko/en/ja/zh stories" in str(unknown.value)


def test_listing_voices_builds_no_client_and_loads_no_sdk(tmp_path: Path) -> None:
    """The API answers from static tables: checking a voice must not import google-genai."""
    before = set(sys.modules)
    check_voice(settings(tmp_path, "A"), "ko", "Kore")
    check_voice(settings(tmp_path, "B"), "ko", "ko_speaker_0")
    loaded = set(sys.modules) - before
    assert not {m for m in loaded if m.startswith(("google.genai", "torch", "transformers"))}


def test_the_composition_root_builds_each_scenarios_narrator(tmp_path: Path) -> None:
    c = bootstrap.Container(settings(tmp_path, voice_defaults={"en": "en-gb"}))
    assert isinstance(c.voices, EspeakVoices) and c.voices.voices("en")[0] == "en-gb"
    b = bootstrap.Container(settings(tmp_path, "B")).voices
    assert isinstance(b, WorkerVoices) and b.deferred and b.model == "bark-small"
    a = bootstrap.Container(settings(tmp_path, "A"), genai_speech=object()).voices
    assert isinstance(a, GeminiVoices) and a.model == "gemini-3.8-flash-tts"
    assert not a.deferred


def test_the_speech_client_is_the_global_one_unless_the_locations_match(tmp_path: Path) -> None:
    regional = object()
    same = bootstrap.Container(settings(tmp_path, "A", tts_location="us-central1"), genai=regional)
    assert same.genai_speech is regional
    other = bootstrap.Container(settings(tmp_path, "A"), genai=regional)
    speech = other.genai_speech
    assert speech is not regional
    assert tts_models.LOCATIONS[0] == "global"
    with pytest.raises(RuntimeError, match="external AI providers are refused"):
        _ = bootstrap.Container(settings(tmp_path, "B")).genai_speech


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Any]:
    bootstrap.configure(settings(tmp_path))
    yield create_app("api", str(ROOT / "functions" / "api.py"), "http").test_client()
    bootstrap.configure(Settings(home=tmp_path / "unused"))


def test_the_api_answers_422_with_the_voices_offered(api: Any) -> None:
    signer = bootstrap.container().signer
    assert signer is not None
    headers = {"Authorization": f"Bearer {signer.mint(str(uuid.uuid4()), 'a@example.com')}"}
    story = {
        "text": "A fox ran home.",
        "shot_count": 2,
        "shot_seconds": 4,
        "options": {"voice": "Kore"},
    }
    response = api.post("/v1/tales", headers=headers, json=story)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json
    assert body["type"].endswith("/unknown-voice")
    assert body["voices"] == ["en-us", "en-gb"]
    assert "'Kore'" in body["detail"]
    assert api.get("/v1/tales", headers=headers).json["tales"] == []
    story["options"] = {"voice": "en-gb"}
    assert api.post("/v1/tales", headers=headers, json=story).status_code == 201
