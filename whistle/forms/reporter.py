"""The reporter's forms: new report, ticket log-in, ticket check, reply.

Validation is server-side only (no JavaScript at Tor Browser's Safest level) and every message
names its field in the visitor's language, so a long form can be corrected in one pass.
flask-wtf supplies the CSRF token of every form.
"""
from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Field,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from whistle.services.reporter.reports import (
    ANONYMOUS,
    CONFIDENTIAL,
    IDENTITY_FIELDS,
    ReportInput,
    Witness,
)

from ..domain.constants import Category, Kind, choices
from ..domain.procedure import SCOPE

NIK_RE = re.compile(r"\A\d{16}\Z")
PHONE_RE = re.compile(r"\A\+?[0-9][0-9 ().-]{5,24}\Z")
EMAIL_RE = re.compile(r"\A[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+\Z")
WITNESS_SLOTS = 2
# Kinds that are about a person's conduct: the reported official ("who") is needed.
NEEDS_WHO = {Kind.COMPLAINT.value, Kind.WHISTLEBLOWING.value}

LIMITS = {"who": 200, "who_position": 200, "what": 20_000, "when": 200, "where": 300,
          "how": 10_000, "name": 200, "address": 500, "position": 200, "phone": 25,
          "email": 254, "nik": 16, "w_name": 200, "w_contact": 200, "w_note": 500}


def _strip(value: Any) -> Any:
    # Keep line breaks inside text, but no leading/trailing blanks and no NULs (SQL drivers).
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def _too_long(field: Field, limit: int) -> None:
    if field.data and len(field.data) > limit:
        raise ValidationError(_l("Please shorten this to %(n)s characters at most.", n=limit))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _select(pairs: Any) -> list[SelectChoice]:
    return [SelectChoice(str(value), text) for value, text in pairs]


class ReportForm(FlaskForm):
    class Meta:
        locales = False

    scope: str = ""

    kind = RadioField(_l("What kind of report is this?"), validate_choice=False)
    category = SelectField(_l("What is it about?"), validate_choice=False)
    unit = SelectField(_l("Which office should receive it?"), validate_choice=False)
    who = StringField(_l("Who is the official you are reporting?"), filters=[_strip])
    # Banten SOP: "identitas aparat yang dilaporkan, termasuk jabatan" -- asked right after the
    # name, in words that say why; optional, because a reporter may not know it.
    who_position = StringField(_l("Position (jabatan) and unit of the official"), filters=[_strip])
    what = TextAreaField(_l("What happened?"), filters=[_strip])
    when = StringField(_l("When did it happen?"), filters=[_strip])
    where = StringField(_l("Where did it happen?"), filters=[_strip])
    how = TextAreaField(_l("How did it happen?"), filters=[_strip])
    anonymity = RadioField(_l("Your identity"), validate_choice=False, choices=[
        SelectChoice(ANONYMOUS, _l("Fully anonymous: I give no identity at all.")),
        SelectChoice(CONFIDENTIAL, _l("Confidential: I give my identity. It is sealed and opened "
                                      "only by two custodians together, after an approved and "
                                      "recorded request.")),
    ])
    name = StringField(_l("Full name"), filters=[_strip])
    nik = StringField(_l("NIK (16 digits)"), filters=[_strip])
    address = TextAreaField(_l("Address"), filters=[_strip])
    phone = StringField(_l("Phone"), filters=[_strip])
    email = StringField(_l("E-mail"), filters=[_strip])
    position = StringField(_l("Your position or job"), filters=[_strip])
    w1_name = StringField(_l("Name"), filters=[_strip])
    w1_contact = StringField(_l("How to reach them"), filters=[_strip])
    w1_note = StringField(_l("What they know"), filters=[_strip])
    w2_name = StringField(_l("Name"), filters=[_strip])
    w2_contact = StringField(_l("How to reach them"), filters=[_strip])
    w2_note = StringField(_l("What they know"), filters=[_strip])
    remove = MultiCheckboxField(_l("Remove"), validate_choice=False, choices=[])

    def setup(self, lang: str, units: list[tuple[int, str]]) -> ReportForm:
        self.scope = SCOPE.get(lang)  # who can be reported (NTT SOP), shown above "who"
        # SelectChoice, not tuples: wtforms 3.4 drops tuple choices.
        self.kind.choices = _select(choices(Kind, lang))
        self.category.choices = _select([("", _l("Choose one…")), *choices(Category, lang)])
        self.unit.choices = _select([("", _l("Choose one…")), *((str(i), n) for i, n in units)])
        self._units = {str(i) for i, _ in units}
        if len(units) == 1:
            self.unit.data = str(units[0][0])
        return self

    @property
    def shows_units(self) -> bool:
        return len(self._units) > 1

    # -- field validators (WTForms calls validate_<name>) --------------------------------
    def validate_kind(self, field: Field) -> None:
        if field.data not in {k.value for k in Kind}:
            raise ValidationError(_l("Please choose the kind of report."))

    def validate_category(self, field: Field) -> None:
        if field.data not in {c.value for c in Category}:
            raise ValidationError(_l("Please choose what the report is about."))

    def validate_unit(self, field: Field) -> None:
        if field.data not in self._units:
            raise ValidationError(_l("Please choose the office that should receive the report."))

    def validate_who(self, field: Field) -> None:
        if not field.data and self.kind.data in NEEDS_WHO:
            raise ValidationError(_l("Please name the official, or describe them if you do not "
                                     "know the name (for example: “the head of the permits desk”)."))
        _too_long(field, LIMITS["who"])

    def validate_who_position(self, field: Field) -> None:
        _too_long(field, LIMITS["who_position"])

    def validate_what(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(_l("Please describe what happened."))
        if len(field.data) < 20:
            raise ValidationError(_l("Please describe what happened in a little more detail "
                                     "(at least 20 characters)."))
        _too_long(field, LIMITS["what"])

    def validate_when(self, field: Field) -> None:
        _too_long(field, LIMITS["when"])

    def validate_where(self, field: Field) -> None:
        _too_long(field, LIMITS["where"])

    def validate_how(self, field: Field) -> None:
        _too_long(field, LIMITS["how"])

    def validate_anonymity(self, field: Field) -> None:
        if field.data not in (ANONYMOUS, CONFIDENTIAL):
            raise ValidationError(_l("Please choose whether to stay anonymous or give your identity."))
        if field.data == ANONYMOUS and any(self[n].data for n in IDENTITY_FIELDS):
            raise ValidationError(_l("You chose to stay anonymous but filled in identity details. "
                                     "Clear those fields, or choose “Confidential”."))

    def validate_name(self, field: Field) -> None:
        if self.anonymity.data == CONFIDENTIAL and not field.data:
            raise ValidationError(_l("Please give your name, or choose “Fully anonymous”."))
        _too_long(field, LIMITS["name"])

    def validate_nik(self, field: Field) -> None:
        if field.data and not NIK_RE.match(field.data.replace(" ", "")):
            raise ValidationError(_l("A NIK has exactly 16 digits."))

    def validate_address(self, field: Field) -> None:
        _too_long(field, LIMITS["address"])

    def validate_phone(self, field: Field) -> None:
        if field.data and not PHONE_RE.match(field.data):
            raise ValidationError(_l("Please give a phone number using digits only, "
                                     "for example 0812 3456 7890."))

    def validate_email(self, field: Field) -> None:
        if field.data and (not EMAIL_RE.match(field.data) or len(field.data) > LIMITS["email"]):
            raise ValidationError(_l("This does not look like an e-mail address."))

    def validate_position(self, field: Field) -> None:
        _too_long(field, LIMITS["position"])

    def _witness(self, field: Field, part: str) -> None:
        _too_long(field, LIMITS["w_" + part])

    def validate_w1_name(self, f: Field) -> None: self._witness(f, "name")
    def validate_w1_contact(self, f: Field) -> None: self._witness(f, "contact")
    def validate_w1_note(self, f: Field) -> None: self._witness(f, "note")
    def validate_w2_name(self, f: Field) -> None: self._witness(f, "name")
    def validate_w2_contact(self, f: Field) -> None: self._witness(f, "contact")
    def validate_w2_note(self, f: Field) -> None: self._witness(f, "note")

    def to_input(self) -> ReportInput:
        """The validated data as the service's input (call after validate())."""
        from ..domain.constants import Category as C
        from ..domain.constants import Kind as K

        identity = {n: self[n].data for n in IDENTITY_FIELDS if self[n].data}
        if "nik" in identity:
            identity["nik"] = identity["nik"].replace(" ", "")
        witnesses = tuple(
            Witness(self[f"w{i}_name"].data or "", self[f"w{i}_contact"].data or "",
                    self[f"w{i}_note"].data or "")
            for i in range(1, WITNESS_SLOTS + 1))
        return ReportInput(
            kind=K(self.kind.data), category=C(self.category.data), unit_id=int(self.unit.data),
            who=self.who.data or "", who_position=self.who_position.data or "",
            what=self.what.data or "", when=self.when.data or "", where=self.where.data or "",
            how=self.how.data or "", anonymity=self.anonymity.data, identity=identity,
            witnesses=tuple(w for w in witnesses if w.name or w.contact or w.note),
        )


class TicketForm(FlaskForm):
    ticket = StringField(_l("Your ticket"), filters=[_strip])

    def validate_ticket(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(_l("Please type your ticket."))
        if len(field.data) > 60:
            raise ValidationError(_l("Check your ticket: it looks mistyped."))


class ConfirmTicketForm(FlaskForm):
    typed = StringField(_l("Type the last group of your ticket (or the whole ticket)"),
                        filters=[_strip])


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your message"), filters=[_strip])

    def validate_body(self, field: Field) -> None:
        if field.data and len(field.data) > 20_000:
            raise ValidationError(_l("Please shorten this to %(n)s characters at most.", n=20_000))
