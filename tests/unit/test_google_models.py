"""The scenario-A model tables agree with the defaults and the price table: every default is a
current model, every current model has a price, and scenario A's engines are the defaults."""

from __future__ import annotations

from datetime import date

from shared.config import Settings
from shared.costs.prices import load_prices
from shared.providers.google import image_models, text_models, veo_models

TABLES = (text_models, image_models, veo_models)


def test_every_table_is_dated_and_sourced() -> None:
    for table in TABLES:
        assert date.fromisoformat(table.CHECKED) == date(2026, 12, 1), table.__name__
        assert table.SOURCE.startswith("https://"), table.__name__
        assert table.MODELS and not set(table.MODELS) & set(table.RETIRED), table.__name__
        for retired in table.RETIRED.values():
            assert retired.replacement in table.MODELS, retired.model_id


def test_the_defaults_are_current_models() -> None:
    settings = Settings()
    assert settings.gemini_model in text_models.MODELS
    assert settings.image_model in image_models.MODELS
    assert settings.veo_model in veo_models.MODELS
    for retired in ("gemini-2.5-flash", "imagen-4.0-generate-001", "veo-3.0-generate-001"):
        assert retired in {**text_models.RETIRED, **image_models.RETIRED, **veo_models.RETIRED}


def test_every_current_model_is_priced_and_scenario_a_prices_the_defaults() -> None:
    prices = load_prices()
    ids = {p.id for p in prices.prices}
    for text in text_models.MODELS.values():
        assert {text.input_price_key, text.output_price_key} <= ids, text.model_id
        assert prices.usd("gemini", text.model_id, "input_tokens", 1) is not None
        assert prices.usd("gemini", text.model_id, "output_tokens", 1) is not None
    for image in image_models.MODELS.values():
        assert image.price_key in ids
        assert prices.usd("gemini-image", image.model_id, "images", 1) is not None
    for veo in veo_models.MODELS.values():
        assert veo.price_key in ids
        assert prices.usd("veo", veo.model_id, "video_seconds", 1) is not None
    settings = Settings()
    a = prices.scenarios["A"]
    assert (a.planner.model, a.images.model, a.videos.model) == (
        settings.gemini_model,
        settings.image_model,
        settings.veo_model,
    )
    assert (a.planner.provider, a.images.provider, a.videos.provider) == (
        "gemini",
        "gemini-image",
        "veo",
    )
