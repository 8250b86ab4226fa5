"""Webhooks to billing systems: an outbox in the database, Standard Webhooks signatures,
checked destinations, delivery with backoff, and a dispatcher several processes may run.

    render done/failed ──same transaction──▶ outbox (pending; id and body fixed)
    dispatcher ──claim with a lease──▶ destinations (checked) ──signed POST──▶ attempt
        2xx delivered · 410 disabled · 429 waits Retry-After · else backoff (schedule)

Delivery is at least once: a dispatcher that dies mid-request leaves its lease to expire and
the attempt is made again, with the same `webhook-id`, so receivers can drop duplicates.
"""
