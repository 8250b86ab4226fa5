"""`billreel simulate`: the proof that experiments are judged right, by a synthetic population
run through the real service on its controllable clock.

An entry point, beside the worker: it builds the service (`app.wiring.create_app` on a fresh
data directory) and drives it only as a billing system and its customers would, through the
HTTP API (template versions, a journey, an experiment, a billing run, payments), while it
moves the clock (`app.infra.clock`) and runs the scheduler's tick and the render job as the
service's own worker does; or through a service already serving at a URL (`remote`).
Modules: `payers` (when each customer pays, given what the service sent them), `bills`
(their render requests), `calls` (what a run needs of a service), `service` (one built here)
and `remote` (one at a URL), `design` (versions, journey, experiment), `run` (the run, hour
by hour, and its ground truth), `summary` (the printed figures).
"""
