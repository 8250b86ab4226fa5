"""A journey's definition: what is sent, when, in which tone, and what holds it back.

Steps are placed in whole days from the bill's due date (negative: before it), at the
journey's `send_at` local time in the customer's time zone. A step's tone is forced (one of
the tones that ask for money) or `rules`: the tone the bill's own rules give
(`renderers.story.tone`) on the step's day, when the bill has become overdue by then.
"""

from __future__ import annotations

import re
from datetime import time
from functools import cache
from itertools import pairwise
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

MAX_STEPS = 12
MIN_OFFSET_DAYS = -90  # three months before the due date
# Four months after: well inside the links' retention (BILLREEL_LINK_TTL_DAYS, 180 days),
# past which the bill a step's render copies is purged.
MAX_OFFSET_DAYS = 120
DEFAULT_SEND_AT = time(10, 0)
DEFAULT_QUIET_START = time(21, 0)
DEFAULT_QUIET_END = time(8, 0)
DEFAULT_CONTACTS = 2  # at most this many contacts ...
DEFAULT_CONTACT_DAYS = 7  # ... in this many days, over all of a customer's bills
DEFAULT_GRACE_DAYS = 3  # a step missed while the service was down still runs this late
DEFAULT_TIME_ZONE = "UTC"

# The same names as templates (and as `app.intake`'s journey field): NAME or NAME@N.
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
TEMPLATE_REF_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}(@[1-9][0-9]{0,8})?$"

ForcedTone = Literal["pay", "nudge", "firm"]  # the tones that ask for money
StepTone = Literal["rules", "pay", "nudge", "firm"]
Output = Literal["video", "microsite"]
OUTPUTS: tuple[Output, ...] = ("video", "microsite")


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_time_zone(name: str) -> str:
    if name not in _time_zones():
        raise PydanticCustomError("time_zone", "is not an IANA time zone name like Europe/Rome")
    return name


def _template_ref(ref: str) -> str:
    if not re.fullmatch(TEMPLATE_REF_PATTERN, ref):
        raise PydanticCustomError(
            "template",
            "must be a template name (1 to 64 lowercase letters, digits and hyphens, starting "
            "with a letter or digit), optionally with @ and a version number",
        )
    return ref


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a journey, or None."""
    if re.fullmatch(NAME_PATTERN, name):
        return None
    return (
        "a journey name is 1 to 64 lowercase letters, digits and hyphens, starting with a "
        "letter or digit"
    )


TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known_time_zone)]
TemplateRef = Annotated[str, StringConstraints(max_length=80), AfterValidator(_template_ref)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class QuietHours(_Strict):
    """Local hours no step is sent in; a step due then waits until they end."""

    start: time = Field(DEFAULT_QUIET_START, description="Local time quiet hours begin, HH:MM")
    end: time = Field(DEFAULT_QUIET_END, description="Local time they end, HH:MM")

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise PydanticCustomError("quiet_hours", "start and end must differ")
        return self

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end  # across midnight


class ContactLimit(_Strict):
    """At most `contacts` messages in any `days` days, counted over all of a customer's bills."""

    contacts: int = Field(DEFAULT_CONTACTS, ge=1, le=50)
    days: int = Field(DEFAULT_CONTACT_DAYS, ge=1, le=90)


class Step(_Strict):
    name: str = Field("", max_length=64, description="A label, e.g. 'friendly reminder'")
    offset_days: int = Field(
        ge=MIN_OFFSET_DAYS,
        le=MAX_OFFSET_DAYS,
        description="Days from the due date: -3 is three days before it, 7 a week after",
    )
    template: TemplateRef = Field(
        description="The template: NAME (the version published when the step runs) or NAME@N"
    )
    tone: StepTone = Field(
        "rules",
        description="A forced tone (pay, nudge, firm), or `rules`: the bill's own tone on the "
        "step's day (overdue by then: nudge; long overdue or a chronic payer: firm)",
    )
    outputs: list[Output] = Field(default_factory=lambda: list(OUTPUTS), min_length=1, max_length=2)

    @model_validator(mode="after")
    def _no_repeats(self) -> Step:
        if len(set(self.outputs)) != len(self.outputs):
            raise PydanticCustomError("outputs", "must not list an output twice")
        return self


class JourneyDefinition(_Strict):
    """A cadence of reminders around a bill's due date."""

    description: str = Field("", max_length=500)
    time_zone: TimeZoneName = Field(
        DEFAULT_TIME_ZONE, description="Where steps are placed when the customer has no time_zone"
    )
    send_at: time = Field(DEFAULT_SEND_AT, description="Local time a step is due, HH:MM")
    quiet_hours: QuietHours = Field(
        default_factory=lambda: QuietHours(start=DEFAULT_QUIET_START, end=DEFAULT_QUIET_END)
    )
    contact_limit: ContactLimit = Field(
        default_factory=lambda: ContactLimit(contacts=DEFAULT_CONTACTS, days=DEFAULT_CONTACT_DAYS)
    )
    grace_days: int = Field(
        DEFAULT_GRACE_DAYS,
        ge=1,
        le=30,
        description="A step that could not run on time (the service was down, quiet hours, "
        "the contact limit) still runs this many days late, never after the next step's time",
    )
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)

    @model_validator(mode="after")
    def _coherent(self) -> JourneyDefinition:
        problems = [
            _problem(("steps", i, "offset_days"), "must be greater than the step's before it")
            for i, (before, step) in enumerate(pairwise(self.steps), 1)
            if step.offset_days <= before.offset_days
        ]
        if self.quiet_hours.contains(self.send_at):
            problems.append(_problem(("send_at",), "must not fall in the quiet hours"))
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self


def _problem(loc: tuple[str | int, ...], message: str) -> InitErrorDetails:
    error = PydanticCustomError("journey", "{detail}", {"detail": message})
    return InitErrorDetails(type=error, loc=loc, input=None)


def definition_of(data: dict[str, object]) -> JourneyDefinition:
    """A stored definition back as the model (it was validated when it was saved)."""
    return JourneyDefinition.model_validate(data)
