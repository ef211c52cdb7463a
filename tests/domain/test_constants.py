from __future__ import annotations

import ast
import pathlib
from enum import Enum

import pytest

from whistle.domain import workflow
from whistle.domain.constants import (
    Category,
    Channel,
    Classification,
    DataRequestPolicy,
    InvestigationTier,
    Kind,
    NotFollowableReason,
    OfficeZone,
    Party,
    Role,
    Status,
    choices,
    label,
    meaning,
    normalise_lang,
)

ENUMS: list[type[Enum]] = [
    Status, Kind, Category, Channel, Role, Party, InvestigationTier, NotFollowableReason, workflow.Action,
    Classification, DataRequestPolicy, OfficeZone,
]
MEMBERS = [m for e in ENUMS for m in e]


def test_codes_are_stable() -> None:
    assert [s.value for s in Status] == [
        "received", "verification", "awaiting_data", "forwarded_pyb", "forwarded_unit",
        "referred_external", "answered", "investigation", "substantiated", "unsubstantiated",
        "not_followable", "closed", "archived",
    ]
    assert [k.value for k in Kind] == ["complaint", "whistleblowing", "aspiration", "information_request"]
    assert [c.value for c in Category] == [
        "ethics_code", "abuse_of_authority", "oath_breach", "discipline_breach",
        "disgraceful_conduct", "law_violation", "maladministration", "poor_public_service",
    ]
    assert [c.value for c in Channel] == [
        "web", "phone", "letter", "complaint_box", "fax", "sms", "email", "in_person",
        "social_media", "other_official",
    ]
    assert [c.value for c in Classification] == ["dispute", "violation"]
    assert [p.value for p in DataRequestPolicy] == ["sp4n_lapor", "sipuma"]
    assert {z.name: z.value for z in OfficeZone} == {
        "WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
    assert [r.value for r in Role] == ["penerima", "verifikator", "pyb", "pengkaji", "uki", "admin", "auditor"]
    assert {t.name: t.value for t in InvestigationTier} == {
        "NORMATIVE": 5, "NO_OVERSIGHT_CONTENT": 14, "FIELD_EXAMINATION": 60,
    }
    assert [r.value for r in NotFollowableReason] == [
        "unclear_not_clarified", "official_unknown", "official_retired", "official_deceased", "other",
    ]


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: f"{type(m).__name__}.{m.name}")
def test_every_member_has_both_labels(member: Enum) -> None:
    id_, en = label(member, "id"), label(member, "en")
    assert id_.strip() and en.strip()
    assert label(member) == id_  # Indonesian first


@pytest.mark.parametrize("status", list(Status))
def test_every_status_has_a_meaning(status: Status) -> None:
    id_, en = meaning(status, "id"), meaning(status, "en")
    assert id_.endswith(".") and en.endswith(".") and id_ != en
    assert meaning(status.value) == id_


def test_design_status_labels() -> None:
    assert [label(s, "id") for s in Status] == [
        "Diterima", "Dalam verifikasi", "Menunggu kelengkapan data", "Diteruskan ke pejabat berwenang",
        "Diteruskan ke unit terkait", "Diteruskan ke instansi lain", "Dijawab", "Dalam pemeriksaan",
        "Terbukti", "Tidak terbukti", "Tidak dapat ditindaklanjuti", "Selesai", "Diarsipkan",
    ]


def test_same_value_different_enum_do_not_collide() -> None:
    assert Status.NOT_FOLLOWABLE == workflow.Action.NOT_FOLLOWABLE  # both "not_followable"
    assert label(Status.NOT_FOLLOWABLE, "en") == "Cannot be followed up"
    assert label(workflow.Action.NOT_FOLLOWABLE, "id") == "Tidak dapat ditindaklanjuti"
    assert label(workflow.Action.CLOSE, "id") == "Selesaikan"


@pytest.mark.parametrize(("raw", "lang"), [
    ("id", "id"), ("ID", "id"), ("id-ID", "id"), ("in", "id"), ("en", "en"), ("en_GB", "en"),
    ("fr", "id"), ("", "id"), (None, "id"),
])
def test_normalise_lang(raw: str | None, lang: str) -> None:
    assert normalise_lang(raw) == lang


def test_choices() -> None:
    assert choices(Kind, "en")[0] == ("complaint", "Complaint")
    assert choices(InvestigationTier)[0] == ("5", "Normatif (5 hari kerja)")


def test_domain_imports_no_web_or_db() -> None:
    """The domain must stay importable without Flask/SQLAlchemy (ARCHITECTURE.md)."""
    root = pathlib.Path(workflow.__file__).parent
    allowed = {"__future__", "calendar", "collections", "dataclasses", "datetime", "enum",
               "functools", "holidays", "types", "typing", "whistle"}
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
                if name.startswith("whistle"):
                    assert name.startswith("whistle.domain"), f"{path.name} imports {name}"
