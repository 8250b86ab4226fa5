"""A render worker: settings from the environment, Redis, and an RQ worker on both queues.

Run as `billreel worker` or `python worker.py`. Jobs carry only a render id; the job
function builds its services from the same environment.
"""

from __future__ import annotations

import logging
import sys

from app.queue import QUEUE_NAMES
from app.settings import Settings

# Evicting keys would silently drop queued jobs: only `noeviction` is safe for a queue.
SAFE_MAXMEMORY_POLICY = "noeviction"


def run(burst: bool = False) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()
    if not settings.redis_url:
        print(
            "billreel worker: set BILLREEL_REDIS_URL "
            "(without it `billreel serve` renders in-process)",
            file=sys.stderr,
        )
        return 2
    from redis import Redis
    from rq import Worker
    from rq.serializers import JSONSerializer

    connection = Redis.from_url(settings.redis_url)
    policy = connection.config_get("maxmemory-policy").get(
        "maxmemory-policy", SAFE_MAXMEMORY_POLICY
    )
    if policy != SAFE_MAXMEMORY_POLICY:
        print(
            f"billreel worker: Redis maxmemory-policy is {policy!r}; it must be "
            f"{SAFE_MAXMEMORY_POLICY!r} or queued renders could be evicted",
            file=sys.stderr,
        )
        return 2
    from app.services import Services
    from app.webhooks import start_dispatcher, webhook_secrets

    webhook_secrets(settings)
    start_dispatcher(Services.build(settings))
    worker = Worker(list(QUEUE_NAMES), connection=connection, serializer=JSONSerializer)
    worker.work(burst=burst, with_scheduler=False)
    return 0


if __name__ == "__main__":
    sys.exit(run(burst="--burst" in sys.argv[1:]))
