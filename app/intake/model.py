"""The models of a `bill/v1` document and the rules that tie its fields together.

One field's rules live in its type (`fields`, `outward_fields`); rules inside one nested
object run in that model; rules across the bill's own fields run in `BillBody`'s wrap
validator on whichever fields did validate, so one bad field does not hide the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from itertools import pairwise
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from app.intake.fields import (
    Amount,
    Beneficiary,
    BillNumber,
    Currency,
    CustomerId,
    CustomerName,
    DaysOverdue,
    ExternalId,
    FreeLabel,
    IsoDate,
    JourneyName,
    LineLabel,
    LocaleTag,
    Measure,
    Month,
    Remittance,
    TemplateName,
    TimeZone,
    TipBody,
    TipTitle,
    Unit,
    currency_digits,
    has_places,
    money_text,
)
from app.intake.limits import (
    EPC_FIXED_BYTES,
    EPC_MAX_PAYLOAD_BYTES,
    MAX_HISTORY_POINTS,
    MAX_LINES,
    MAX_TIPS,
    OUTPUTS,
)
from app.intake.outward_fields import Bic, Extra, HttpsUrl, Iban
from app.intake.problems import detail, located, problem

# --- the models -------------------------------------------------------------------------------


class _Strict(BaseModel):
    # Unknown keys are refused: a typo must not silently drop data. Inputs are never echoed
    # in a ValidationError's text, which may end up in a log.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class Customer(_Strict):
    """Who the bill is for."""

    id: CustomerId = Field(description="The billing system's customer id")
    name: CustomerName = Field(description="Display name, any script; shown exactly as given")
    locale: LocaleTag | None = Field(None, description="BCP 47 tag; default: the template's")
    segment: FreeLabel | None = Field(None, description="Free label that template rules can test")
    time_zone: TimeZone | None = Field(
        None,
        description="IANA time zone a reminder journey's steps are placed in (beyond the "
        "contract); default: the journey's",
        examples=["Europe/Rome"],
    )


class Period(_Strict):
    """The billed period, both days included."""

    start: IsoDate
    end: IsoDate

    @model_validator(mode="after")
    def _start_not_after_end(self) -> Period:
        if self.start > self.end:
            raise ValidationError.from_exception_data(
                "Period", [located(("end",), "must not be before start")]
            )
        return self


class Line(_Strict):
    """One line of the bill; the lines' amounts add up to the total."""

    label: LineLabel
    category: FreeLabel | None = None
    amount: Amount


class ConsumptionPoint(_Strict):
    month: Month
    value: Measure


class Consumption(_Strict):
    """Monthly consumption, oldest month first, for the history chart."""

    unit: Unit = Field(examples=["kWh"])
    history: list[ConsumptionPoint] = Field(min_length=1, max_length=MAX_HISTORY_POINTS)
    peer_average: Measure | None = Field(None, description="Similar customers' average")

    @field_validator("history")
    @classmethod
    def _months_increase(cls, history: list[ConsumptionPoint]) -> list[ConsumptionPoint]:
        problems = [
            located((i, "month"), f"must come after the month before it ({prev.month})")
            for i, (prev, point) in enumerate(pairwise(history), start=1)
            if point.month <= prev.month  # YYYY-MM sorts as text
        ]
        if problems:
            raise ValidationError.from_exception_data("history", problems)
        return history


class BillBody(_Strict):
    """The `bill` object: what is owed, by when, and how it is made up."""

    number: BillNumber
    issued_on: IsoDate
    due_on: IsoDate = Field(description="Not before issued_on")
    period: Period | None = None
    currency: Currency = Field(description="ISO 4217 code", examples=["EUR"])
    total: Amount = Field(description="Negative when the customer is in credit")
    lines: list[Line] | None = Field(
        None, min_length=1, max_length=MAX_LINES, description="Their amounts sum to total"
    )
    status: Literal["open", "overdue", "paid"]
    days_overdue: DaysOverdue | None = None
    consumption: Consumption | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _rules_across_fields(cls, data: Any, handler: ModelWrapValidatorHandler[BillBody]) -> Any:
        problems: list[InitErrorDetails] = []
        body: BillBody | None = None
        try:
            body = handler(data)
        except ValidationError as exc:
            problems += [
                located(e["loc"], detail(e), "bill_field")
                for e in exc.errors(include_url=False, include_input=False)
            ]
        source = data.model_dump() if isinstance(data, BillBody) else data
        problems += cross_field_problems(source)
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return body


class Sepa(_Strict):
    """Bank details for the EPC (SEPA credit transfer) payment QR code."""

    iban: Iban
    bic: Bic | None = None
    beneficiary: Beneficiary
    reference: Remittance | None = Field(None, description="Unstructured remittance text")

    @model_validator(mode="after")
    def _fits_payment_code(self) -> Sepa:
        text = self.beneficiary + (self.reference or "")
        used = EPC_FIXED_BYTES + len(self.iban) + len(self.bic or "")
        if used + len(text.encode("utf-8")) > EPC_MAX_PAYLOAD_BYTES:
            raise problem(
                "bill_epc",
                "beneficiary and reference are too long together for a SEPA payment QR code "
                f"({EPC_MAX_PAYLOAD_BYTES - used} UTF-8 bytes at most)",
            )
        return self


class Payment(_Strict):
    """How to pay; without it no pay button is shown."""

    url: HttpsUrl
    sepa: Sepa | None = None


class Tip(_Strict):
    title: TipTitle
    body: TipBody


class Bill(_Strict):
    """One customer's bill, `bill/v1`."""

    customer: Customer
    bill: BillBody
    payment: Payment | None = None
    tips: list[Tip] | None = Field(None, max_length=MAX_TIPS)
    extra: Extra | None = None


Output = Literal["video", "microsite"]
# When the video is made: with the render (`up_front`, the default), or when the customer
# first opens the page (`on_open`: the run makes the microsite, poster, captions and chapters;
# the video follows the first real open, delivered as HLS while it is coded).
VideoMode = Literal["up_front", "on_open"]


class RenderRequest(_Strict):
    """One bill to render with one template."""

    template: TemplateName = Field(examples=["bill-explainer"])
    outputs: list[Output] = Field(default_factory=lambda: list(OUTPUTS), min_length=1)
    data: Bill
    external_id: ExternalId | None = Field(None, description="The billing system's reference")
    callback_url: HttpsUrl | None = Field(None, description="Signed webhook on done and failed")
    video: VideoMode = Field(
        "up_front",
        description="When the video is made: `up_front` with the render, or `on_open`: when "
        "the customer first opens the microsite (bots, scanners and prefetches never ask for "
        "it); the page then plays it as HLS while later scenes are coded, and video.mp4 "
        "serves it once made. `on_open` needs both outputs (beyond the contract)",
        examples=["on_open"],
    )
    journey: JourneyName | None = Field(
        None,
        description="A reminder journey (NAME or NAME@N) the bill follows after this render: "
        "each step's render is made when due and announced by a `journey.step_ready` webhook "
        "to callback_url (beyond the contract)",
        examples=["gentle"],
    )

    @field_validator("outputs")
    @classmethod
    def _no_repeats(cls, outputs: list[Output]) -> list[Output]:
        if len(set(outputs)) != len(outputs):
            raise problem("bill_outputs", "must not list an output twice")
        return outputs

    @model_validator(mode="after")
    def _on_open_needs_a_page(self) -> RenderRequest:
        if self.video == "on_open" and set(self.outputs) != {"video", "microsite"}:
            # The video is asked for by the page's first open, and is a video to make.
            raise ValidationError.from_exception_data(
                "RenderRequest",
                [located(("video",), "on_open needs outputs video and microsite")],
            )
        return self

    @model_validator(mode="after")
    def _journey_needs_a_callback(self) -> RenderRequest:
        if self.journey is not None and self.callback_url is None:
            # The billing system learns of each step only by its webhook.
            raise ValidationError.from_exception_data(
                "RenderRequest",
                [located(("callback_url",), "is required when a journey is named")],
            )
        return self


# --- rules across the bill's fields -----------------------------------------------------------

_DATE = TypeAdapter(IsoDate)
_CURRENCY = TypeAdapter(Currency)
_AMOUNT = TypeAdapter(Amount)


def _valid(adapter: TypeAdapter[Any], raw: object, key: str) -> Any:
    """The field's value if it passes its own rules, else None (its error is reported there)."""
    if not isinstance(raw, Mapping) or raw.get(key) is None:
        return None
    try:
        return adapter.validate_python(raw[key])
    except ValidationError:
        return None


def cross_field_problems(raw: object) -> list[InitErrorDetails]:
    problems: list[InitErrorDetails] = []
    if not isinstance(raw, Mapping):
        return problems
    issued, due = _valid(_DATE, raw, "issued_on"), _valid(_DATE, raw, "due_on")
    if issued is not None and due is not None and due < issued:
        problems.append(located(("due_on",), "must not be before issued_on"))

    currency = _valid(_CURRENCY, raw, "currency")
    if currency is None:
        return problems  # minor digits and sums need to know the currency
    digits = currency_digits(currency)
    places = f"must not have more than {digits} decimal places for {currency}"
    total = _valid(_AMOUNT, raw, "total")
    if total is not None and not has_places(total, digits):
        problems.append(located(("total",), places))
        total = None
    lines = raw.get("lines")
    if not isinstance(lines, list) or not lines:
        return problems
    amounts: list[Decimal | None] = []
    for i, line in enumerate(lines):
        amount = _valid(_AMOUNT, line, "amount")
        if amount is not None and not has_places(amount, digits):
            problems.append(located(("lines", i, "amount"), places))
            amount = None
        amounts.append(amount)
    if total is not None and all(a is not None for a in amounts):
        added = sum((a for a in amounts if a is not None), Decimal(0))
        if added != total:
            problems.append(
                located(
                    ("lines",),
                    f"the line amounts add up to {money_text(added, digits)} {currency}, "
                    f"but total is {money_text(total, digits)} {currency}",
                )
            )
    return problems
