"""billreel's service, one package per domain; `docs/design.md` draws the plan.

Dependencies run one way, checked by import-linter (`make check`, contracts in
pyproject.toml):

    cli ─▶ worker | simulation   entry points: the `billreel` command, a render worker process,
                                 a synthetic population run through the service
    wiring                       the composition root: settings, database, queue, storage, routes
    api | customer | dashboard   the HTTP interfaces, independent of one another
    intake, access, rendering,   the domains, each independent of the others but for the
    delivery, analytics,         exceptions the contracts name
    webhooks, audit, templates,
    experiments, preview, studio, journeys,
    collection, ondemand
    infra                        settings, errors, database, storage, queue, logs

Nothing below imports anything above; `renderers` (a bill and a template to files) imports
nothing of `app`.
"""
