"""Every query path on a real PostgreSQL server, not only on SQLite.

The API, batch, analytics, payment and webhook tests are collected here a second time,
with `settings` pointing `BILLREEL_DATABASE_URL` at a fresh PostgreSQL database of each
test's own (tests/pg.py starts a throwaway cluster). Together with tests/delivery/test_retention.py,
which runs on both engines, this covers every model and query: renders and idempotency,
batches and their results, events and funnels, payments, the webhook outbox and its
leases, purge and erasure. Tests that only check input handling, or that stream 100,000
lines (a speed concern), stay on SQLite.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from app.infra.services import Services
from app.infra.settings import Settings
from tests.analytics.test_funnel import (  # noqa: F401 (collected again, on PostgreSQL)
    test_batch_analytics_counts_rates_tones_and_time_to_pay,
    test_every_tone_and_template_version_has_its_own_funnel,
    test_renders_not_done_are_not_delivered_and_errors_are_problems,
)
from tests.api.test_batches import (  # noqa: F401
    test_batch_accepts_good_lines_and_rejects_bad_ones_by_line_number,
    test_batch_idempotency_replays_without_new_renders,
    test_batch_status_codes,
    test_counts_results_and_analytics,
)
from tests.api.test_payments import (  # noqa: F401
    test_a_reference_names_one_payment_only,
    test_payments_belong_to_the_key_that_made_the_render,
    test_the_same_payment_is_recorded_once,
    test_time_to_pay_counts_from_delivery,
)
from tests.api.test_renders import (  # noqa: F401
    test_404_for_another_keys_render,
    test_accepted_render_has_links_location_and_queued_status,
    test_idempotency_key_in_flight_is_409,
    test_idempotency_key_with_a_different_body_is_422,
    test_idempotency_keys_are_scoped_to_the_api_key,
    test_idempotency_replays_the_first_response,
    test_invalid_request_with_idempotency_key_is_replayed_too,
)
from tests.pg import postgres_server, postgres_url  # noqa: F401 (fixtures)
from tests.webhooks.test_webhooks import CURRENT_SECRET as WEBHOOK_SECRET
from tests.webhooks.test_webhooks import (  # noqa: F401
    OLD_SECRET,
    TIMEOUT_SECONDS,
    hooks,
    key_id,
    receiver,
    test_a_claimed_delivery_is_not_taken_by_another_dispatcher,
    test_a_render_outcome_is_enqueued_once,
    test_a_retry_sends_the_same_id_and_the_same_body,
    test_done_render_is_posted_signed_with_every_secret,
    test_the_delivery_log_is_shown_to_the_render_owner_only,
    test_two_dispatchers_deliver_each_webhook_once,
)


@pytest.fixture
def settings(tmp_path: Path, postgres_url: str) -> Settings:  # noqa: F811
    """Overrides conftest's (and test_webhooks'): a PostgreSQL database for each test."""
    return Settings(
        data_dir=tmp_path / "var",
        public_url="https://bills.example.test",
        database_url=postgres_url,
        webhook_secrets=f"{WEBHOOK_SECRET},{OLD_SECRET}",
        webhook_allow_private=True,
        webhook_timeout_seconds=TIMEOUT_SECONDS,
    )


def test_the_services_really_use_postgresql(services: Services) -> None:
    """Guards the rest of this module: were this SQLite, the tests above would prove little."""
    assert services.db.engine.dialect.name == "postgresql"
    assert services.db.engine.dialect.driver == "psycopg"
    with services.db.session() as session:
        version = str(session.execute(text("SHOW server_version")).scalar())
    assert int(version.split(".")[0]) >= 13
