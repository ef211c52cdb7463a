"""The public procedure (tata cara pengaduan), generated from the workflow table and the
office's deadline configuration, so that what the public reads never drifts from what the
service does.

All four SOPs publish this: the channels, what a report should contain, the steps with their
deadlines, the outcomes, and the confidentiality of both the reporter and the reported
person. The deadlines are the configured numbers (`DeadlineConfig`, `InvestigationTier`);
where a clock starts is read from the table's anchors; the next steps are the table's edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from whistle.domain.actions import Action, Anchor
from whistle.domain.calendar import DeadlineConfig
from whistle.domain.constants import (
    Category,
    Channel,
    DataRequestPolicy,
    InvestigationTier,
    Kind,
    NotFollowableReason,
    Status,
    Text,
    label,
    meaning,
)
from whistle.domain.workflow import EXPIRY_ACTION, SPECS, next_statuses

# NTT SOP: officials of the body and holders of its permits or contracts can be reported.
SCOPE: Final = Text(
    "Yang dapat dilaporkan: pejabat dan pegawai badan publik ini, serta pihak yang mendapatkan "
    "izin atau perjanjian kerja dari badan publik ini, atas dugaan penyalahgunaan wewenang atau "
    "pelanggaran.",
    "Who can be reported: officials and employees of this public body, and anyone holding a "
    "permit or a contract from it, for suspected abuse of authority or misconduct.",
)

# Banten SOP A.2: what a report should contain at the least.
CONTENTS: Final[tuple[Text, ...]] = (
    Text("Identitas aparat yang dilaporkan, termasuk jabatannya.",
         "Who the official reported is, including their position."),
    Text("Perbuatan yang dilaporkan: apa, kapan, di mana, dan bagaimana terjadinya.",
         "What they did: what happened, when, where and how."),
    Text("Bukti atau keterangan yang mendukung laporan (dokumen, foto, rekaman).",
         "Evidence or information that supports the report (documents, photos, recordings)."),
    Text("Saksi atau pihak lain yang dapat dimintai keterangan, bila ada; datanya disegel "
         "seperti identitas Anda.",
         "Witnesses or others who can be asked, if any; their details are sealed like your identity."),
)

# Banten SOP B: both the reporter and the reported person have these rights.
RIGHTS: Final[tuple[Text, ...]] = (
    Text("Pelapor dan terlapor berhak atas perlindungan kerahasiaan identitasnya. Identitas "
         "pelapor disegel dan hanya dapat dibuka oleh dua petugas penyimpan bersama-sama, "
         "setelah permintaan yang disetujui dan dicatat.",
         "The reporter and the reported person both have the right to have their identity kept "
         "confidential. The reporter's identity is sealed and can be opened only by two custodians "
         "together, after an approved and recorded request."),
    Text("Keduanya berhak memberikan keterangan secara bebas tanpa paksaan dari pihak mana pun.",
         "Both may give their account freely, without pressure from anyone."),
    Text("Keduanya berhak mendapatkan perlakuan yang sama dalam pemeriksaan. Nama terlapor tidak "
         "dimuat dalam pemberitahuan, statistik, ekspor, maupun catatan audit.",
         "Both are entitled to equal treatment in the examination. The reported person's name "
         "appears in no notification, statistic, export or audit record."),
)


@dataclass(frozen=True)
class Step:
    status: Status
    deadline: Text | None  # None: no deadline of its own
    next: tuple[Status, ...]

    def title(self, lang: str) -> str:
        return label(self.status, lang)

    def meaning(self, lang: str) -> str:
        return meaning(self.status, lang)


@dataclass(frozen=True)
class Procedure:
    channels: tuple[Channel, ...]
    kinds: tuple[Kind, ...]
    categories: tuple[Category, ...]
    steps: tuple[Step, ...]
    outcomes: tuple[Status, ...]
    not_followable_reasons: tuple[NotFollowableReason, ...]
    policy: DataRequestPolicy
    scope: Text = SCOPE
    contents: tuple[Text, ...] = CONTENTS
    rights: tuple[Text, ...] = RIGHTS


def _from(action: Action, kind: Kind | None = None) -> Text:
    """Where the clock of the step entered by ``action`` starts, from the table's anchor."""
    spec = SPECS[action]
    anchor = spec.anchor_by_kind.get(kind, spec.anchor) if kind else spec.anchor
    if anchor is Anchor.RECEIPT:
        return Text("sejak laporan diterima", "from the day the report was received")
    if anchor is Anchor.STEP_START:
        return Text("sejak laporan diterima unit yang menanganinya",
                    "from the day the handling unit received the report")
    return Text("sejak langkah ini dimulai", "from the day this step began")


def _days(n: int, working: bool) -> Text:
    return Text(f"{n} hari kerja" if working else f"{n} hari kalender",
                f"{n} working days" if working else f"{n} calendar days")


def _join(*parts: Text, sep: str = " ") -> Text:
    return Text(sep.join(p.id for p in parts), sep.join(p.en for p in parts))


def _deadline(status: Status, config: DeadlineConfig) -> Text | None:
    if status in (Status.RECEIVED, Status.VERIFICATION):
        return _join(_days(config.verification_days, True), _from(Action.START_VERIFICATION))
    if status is Status.AWAITING_DATA:
        after = SPECS[EXPIRY_ACTION[config.data_request_policy]].to_status
        assert after is not None
        return _join(_days(config.awaiting_data_days, config.awaiting_data_in_working_days),
                     Text("sejak permintaan; tanpa jawaban laporan menjadi:",
                          "from the request; without an answer the report becomes:"),
                     Text(f"“{label(after, 'id')}”", f"“{label(after, 'en')}”"))
    if status is Status.INVESTIGATION:
        tiers = [Text(f"{label(t, 'id')}", f"{label(t, 'en')}") for t in InvestigationTier]
        return _join(_join(*tiers, sep="; "), _from(Action.UNIT_INVESTIGATE), sep=" — ")
    if status is Status.ANSWERED:
        info = _from(Action.ANSWER, Kind.INFORMATION_REQUEST)
        return _join(_days(config.answered_days, True), _from(Action.ANSWER),
                     Text(f"(permintaan informasi: {info.id})", f"(information requests: {info.en})"))
    if status is Status.CLOSED:
        return Text(f"diarsipkan {config.quiet_period_days} hari kalender setelah selesai",
                    f"archived {config.quiet_period_days} calendar days after closing")
    return None


# The order a reader follows: the common path first, then the branches.
_ORDER: Final = (
    Status.RECEIVED, Status.VERIFICATION, Status.AWAITING_DATA, Status.FORWARDED_PYB,
    Status.FORWARDED_UNIT, Status.REFERRED_EXTERNAL, Status.INVESTIGATION, Status.ANSWERED,
    Status.SUBSTANTIATED, Status.UNSUBSTANTIATED, Status.NOT_FOLLOWABLE, Status.CLOSED,
    Status.ARCHIVED,
)
OUTCOMES: Final = (Status.ANSWERED, Status.REFERRED_EXTERNAL, Status.SUBSTANTIATED,
                   Status.UNSUBSTANTIATED, Status.NOT_FOLLOWABLE, Status.ARCHIVED)


def procedure(config: DeadlineConfig) -> Procedure:
    """The procedure page's content for an office configured with ``config``."""
    assert set(_ORDER) == set(Status), "every status has its place on the procedure page"
    # An unanswered request ends one way per office: leave out the other policy's ending.
    own = SPECS[EXPIRY_ACTION[config.data_request_policy]].to_status
    other = {SPECS[a].to_status for p, a in EXPIRY_ACTION.items() if p is not config.data_request_policy}

    def after(s: Status) -> tuple[Status, ...]:
        drop = other - {own} if s is Status.AWAITING_DATA else set()
        return tuple(n for n in _ORDER if n in next_statuses(s) and n not in drop)

    steps = tuple(Step(s, _deadline(s, config), after(s)) for s in _ORDER)
    return Procedure(
        channels=tuple(Channel), kinds=tuple(Kind), categories=tuple(Category), steps=steps,
        outcomes=OUTCOMES, not_followable_reasons=tuple(r for r in NotFollowableReason
                                                        if r is not NotFollowableReason.OTHER),
        policy=config.data_request_policy,
    )
