"""The cost estimate as the API shows it. The rules — estimates, caps, the committed spend —
are in ``shared.costs.budget``; the cap is enforced when a tale is admitted
(``shared.usecases.submit_tale``)."""

from __future__ import annotations

from shared.api.views import CostEstimate
from shared.bootstrap import Container
from shared.costs import budget
from shared.costs.estimate import Estimate
from shared.domain.tale import TaleRecord


def estimate_of(container: Container, tale: TaleRecord) -> Estimate:
    """The tale's estimate, from its storyboard once it has one, with its voice option."""
    store = container.store
    plan = store.plan(tale.tale_id)
    return budget.estimate_of(container.settings, tale, plan, store.options(tale.tale_id).voice)


def view(estimate: Estimate) -> CostEstimate:
    return CostEstimate(
        usd=round(estimate.usd, 6),
        by_stage={k: round(v, 6) for k, v in estimate.by_stage.items()},
        scenario=estimate.scenario,
        price_table=estimate.price_table,
    )
