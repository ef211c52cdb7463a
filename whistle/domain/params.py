"""The fields an action may carry: one parser per field name, and the check of a whole set.

A parser returns None when the field is absent or blank and raises ValueError("<what is
expected>") when it is present but bad, so that every refusal names the field and says what
would be accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Final, TypeVar

from whistle.domain.actions import Action, refuse
from whistle.domain.constants import (
    Category,
    Classification,
    InvestigationTier,
    Kind,
    NotFollowableReason,
    label,
)

# Every action may carry an internal note for the event record (never shown to the reporter).
COMMON_OPTIONAL: Final = ("note",)

E = TypeVar("E", bound=Enum)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("a text")
    return value.strip() or None  # blank counts as missing


def _date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError("a local date (not a datetime)")
    return value


_TRUE: Final = frozenset({"1", "yes", "on", "true", "ya"})
_FALSE: Final = frozenset({"0", "no", "off", "false", "tidak"})


def _flag(value: object) -> bool | None:
    """A yes/no answer; a form sends "1"/"0" (radio buttons), code may pass a bool."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("yes (1) or no (0)")


def _choice(enum_type: type[E]) -> Callable[[object], E | None]:
    codes = ", ".join(str(m.value) for m in enum_type)

    def parse(value: object) -> E | None:
        if value is None or value == "":
            return None
        if isinstance(value, enum_type):
            return value
        if isinstance(value, str) and value in enum_type._value2member_map_:
            return enum_type(value)
        raise ValueError(f"one of {codes}")

    return parse


_TIERS: Final = ", ".join(f"{t.name.lower()}={t.value}" for t in InvestigationTier)


def _tier(value: object) -> InvestigationTier | None:
    """Accepts the enum, its day count (5/14/60, also as a form string) or its name."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        key = value.strip()
        if key.upper() in InvestigationTier.__members__:
            return InvestigationTier[key.upper()]
        value = int(key) if key.isdigit() else key
    if isinstance(value, int) and not isinstance(value, bool) and value in InvestigationTier._value2member_map_:
        return InvestigationTier(value)
    raise ValueError(f"one of {_TIERS}")


FIELDS: Final[Mapping[str, Callable[[object], object]]] = {
    "message": _text, "external_ref": _text, "sanction": _text, "reason_text": _text,
    "note": _text, "grounds": _text, "agency": _text, "copy_ref": _text, "subject": _text,
    "object": _text, "statement": _text,
    "reason": _choice(NotFollowableReason), "kind": _choice(Kind), "category": _choice(Category),
    "classification": _choice(Classification), "confidential_handling": _flag, "disclose": _flag,
    "tier": _tier, "due_on": _date, "today": _date,
}
_REASONS: Final = ", ".join(NotFollowableReason)
HINTS: Final = {
    "reason": f" (one of: {_REASONS})",
    "tier": f" (one of: {_TIERS})",
    "message": " (the text the reporter will read)",
    "external_ref": " (the agency and its reference)",
    "sanction": " (the sanction imposed)",
    "grounds": " (why, for the handlers; the reporter does not see it)",
    "agency": " (the agency the copy goes to)",
    "copy_ref": " (the agency's reference for the copy)",
    "classification": f" (one of: {', '.join(Classification)})",
    "confidential_handling": " (is confidential handling needed: 1 or 0)",
    "statement": " (what the reported person said)",
}


def check_params(action: Action, required: tuple[str, ...], optional: tuple[str, ...],
                 raw: Mapping[str, object]) -> dict[str, object]:
    """Parse ``raw`` for ``action``; raise TransitionRefused naming the first bad field."""
    accepted = (*required, *optional, *COMMON_OPTIONAL)
    unknown = sorted(set(raw) - set(accepted))
    if unknown:
        raise refuse(
            "field",
            f"Action {action.value!r} does not take {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(accepted)}.",
            f"Tindakan {label(action, 'id')!r} tidak menerima isian {', '.join(unknown)}.",
            field=unknown[0],
        )
    values: dict[str, object] = {}
    for name in accepted:
        try:
            value = FIELDS[name](raw.get(name))
        except (TypeError, ValueError) as exc:
            raise refuse(
                "field",
                f"Action {action.value!r}: field {name!r} must be {exc}; got {raw.get(name)!r}.",
                f"Tindakan {label(action, 'id')!r}: isian {name!r} tidak sah.",
                field=name,
            ) from None
        if value is None and name in required:
            raise refuse(
                "field",
                f"Action {action.value!r} needs the field {name!r}{HINTS.get(name, '')}.",
                f"Tindakan {label(action, 'id')!r} memerlukan isian {name!r}.",
                field=name,
            )
        if value is not None:
            values[name] = value
    if values.get("reason") is NotFollowableReason.OTHER and "reason_text" not in values:
        raise refuse(
            "field",
            "Reason 'other' needs 'reason_text': the reporter must be told the reason.",
            "Alasan 'lainnya' memerlukan isian 'reason_text' karena alasannya wajib disampaikan kepada pelapor.",
            field="reason_text",
        )
    due, today = values.get("due_on"), values.get("today")
    if isinstance(due, date) and isinstance(today, date) and not today > due:
        raise refuse(
            "field",
            f"Cannot {action.value} before the deadline has passed (due {due}, today {today}).",
            f"Belum dapat diproses otomatis: batas waktu {due} belum lewat.",
            field="today",
        )
    return values
