"""Strict JSON for everything the service reads from outside (RFC 8259, I-JSON leaning).

`json.loads` alone is too forgiving for payments data, so `loads` adds:

- the bytes must be UTF-8 (no byte order mark), and no string may hold an unpaired
  surrogate escape such as "\\ud800", which no encoder can write back out;
- numbers with a fraction or exponent become `decimal.Decimal`, so 84.2 stays exactly 84.2;
- integers with more than `MAX_INT_DIGITS` digits also become `Decimal` instead of hitting
  Python's int-from-text digit limit, so the bill model rejects them with a field error;
- NaN, Infinity and -Infinity are refused (they are not JSON);
- an object with a key twice is refused: a payments API must not silently pick one of
  two totals.

Every failure is a `MalformedJson` whose message says what and where, and never repeats
more than a short object key of the input.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

__all__ = ["MAX_INT_DIGITS", "MalformedJson", "loads"]

MAX_INT_DIGITS = 100  # longer integers are parsed as Decimal: still exact, never int()'s limit
_MAX_KEY_ECHO = 40  # characters of a duplicate key quoted in the message

_CONSTANT_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # \uD800..\uDFFF appears somewhere
_SURROGATE = re.compile("[\ud800-\udfff]")


class MalformedJson(ValueError):
    """The input is not strict JSON; the message says what and where."""


class _ConstantFound(Exception):
    """NaN or an Infinity met by the decoder; `loads` turns it into `MalformedJson`."""


class _DuplicateKey(Exception):
    """An object key met twice by the decoder; `loads` turns it into `MalformedJson`."""


def loads(data: bytes | str) -> Any:
    """Parse strict JSON: UTF-8, Decimal numbers, no NaN/Infinity, no duplicate keys."""
    text = _text(data)
    try:
        value = json.loads(
            text,
            parse_float=Decimal,
            parse_int=_parse_int,
            parse_constant=_refuse_constant,
            object_pairs_hook=_object_without_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise MalformedJson(f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except _ConstantFound as exc:
        raise MalformedJson(_constant_message(text, str(exc))) from None
    except _DuplicateKey as exc:
        raise MalformedJson(str(exc)) from None
    except RecursionError:
        raise MalformedJson("the JSON is nested too deeply") from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise MalformedJson(
            "a string holds an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF), "
            "which is not valid Unicode"
        )
    return value


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        match = _SURROGATE.search(data)
        if match:
            raise MalformedJson(f"the text holds an unpaired surrogate at offset {match.start()}")
        text = data
    elif isinstance(data, bytes | bytearray | memoryview):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedJson(
                f"the body is not UTF-8: invalid byte at offset {exc.start}"
            ) from None
    else:
        raise TypeError(f"loads() takes bytes or str, not {type(data).__name__}")
    if text.startswith("\ufeff"):
        raise MalformedJson("the body starts with a byte order mark, which JSON does not allow")
    return text


def _parse_int(digits: str) -> int | Decimal:
    # int() refuses texts past sys.get_int_max_str_digits(); Decimal has no such limit.
    if len(digits) > MAX_INT_DIGITS:
        return Decimal(digits)
    return int(digits)


def _refuse_constant(name: str) -> Any:
    raise _ConstantFound(name)


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                shown = key if len(key) <= _MAX_KEY_ECHO else key[:_MAX_KEY_ECHO] + "..."
                raise _DuplicateKey(f"duplicate key {json.dumps(shown)} in an object")
            seen.add(key)
    return obj


def _constant_message(text: str, name: str) -> str:
    """Where the first NaN/Infinity outside a string is: the decoder does not tell."""
    where = ""
    for match in _CONSTANT_TOKEN.finditer(text):
        if match.group(1):
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            where = f" at line {line}, column {column}"
            break
    return f"{name} is not a JSON number{where}; send amounts as decimal strings"


def _has_lone_surrogate(value: Any) -> bool:
    """Whether any key or string in `value` holds a surrogate (walked without recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
