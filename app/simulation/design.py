"""What a run sets up through the API before its bills: the arms' template versions, the
journey and the experiment, started."""

from __future__ import annotations

from typing import Any

from app.simulation.bills import TEMPLATE
from app.simulation.calls import Service, SimulationInputError

JOURNEY = "simulated-collection"
CONTROL, TREATMENT, HOLDOUT = "control", "treatment", "holdout"
STEP_NAMES = {-3: "friendly reminder", 1: "nudge", 7: "firm, with instalments"}


def versions(service: Service, holdout: bool, treatment: str | None) -> dict[str, str | None]:
    """Control: the published version; treatment: the one named, or a copy of control made
    a draft, published and rolled back (so control stays the published one)."""
    published = service.call("GET", f"/v1/templates/{TEMPLATE}/versions")
    current = next(v for v in published["data"] if v["state"] == "published")
    control = f"{TEMPLATE}@{current['number']}"
    if treatment is not None:
        if treatment == control or not treatment.startswith(f"{TEMPLATE}@"):
            raise SimulationInputError("treatment", f"another version of {TEMPLATE}: NAME@N")
        chosen: dict[str, str | None] = {CONTROL: control, TREATMENT: treatment}
        if holdout:
            chosen[HOLDOUT] = None
        return chosen
    draft = service.call("POST", f"/v1/templates/{TEMPLATE}/versions", {
        "from": current["number"], "message": "simulation: the treatment arm",
    })  # fmt: skip
    service.publish_version(TEMPLATE, draft["number"])
    service.publish_version(TEMPLATE, current["number"])
    versions: dict[str, str | None] = {
        CONTROL: f"{TEMPLATE}@{current['number']}",
        TREATMENT: f"{TEMPLATE}@{draft['number']}",
    }
    if holdout:
        versions[HOLDOUT] = None
    return versions


def journey(
    service: Service, steps_days: tuple[int, ...], outputs: tuple[str, ...], time_zone: str
) -> None:
    steps = []
    for offset in steps_days:
        step: dict[str, Any] = {
            "name": STEP_NAMES.get(offset, f"{offset:+d} days"),
            "offset_days": offset,
            "template": TEMPLATE,
            "outputs": list(outputs),
        }
        if offset == 7:
            step["tone"] = "firm"
        steps.append(step)
    service.call("POST", f"/v1/journeys/{JOURNEY}/versions", {
        "description": "Simulated soft collection", "time_zone": time_zone,
        "steps": steps,
    })  # fmt: skip


def experiment(service: Service, versions: dict[str, str | None]) -> dict[str, Any]:
    arms = [
        {"name": name, "holdout": True} if version is None else {"name": name, "version": version}
        for name, version in versions.items()
    ]
    made = service.call("POST", "/v1/experiments", {
        "name": "Simulated: control against treatment", "template": TEMPLATE, "arms": arms,
        "control": CONTROL,
    })  # fmt: skip
    started: dict[str, Any] = service.call("POST", f"/v1/experiments/{made['id']}/start")
    return started
