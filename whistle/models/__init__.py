"""All models, importable from one place so Alembic sees the whole metadata."""
from .agencies import AgencyKey
from .base import Base, UTCDateTime, new_id, utcnow
from .case import Case, CaseField, CaseKeyWrap, CaseStatement, IdentityBlob, IdentityShare
from .events import AuditEntry, Event
from .identity import IdentityConsent, IdentityRequest, ShareRelease
from .membership import MembershipApproval, OfficerNotice
from .notices import CaseNotice
from .org import Officer, Team, TeamMember, Unit
from .settings import CalendarOverride, ServerSession
from .setup import TeamPlan
from .thread import Attachment, Message

__all__ = [
    "AgencyKey",
    "Attachment", "AuditEntry", "Base", "CalendarOverride", "Case", "CaseField", "CaseKeyWrap",
    "CaseNotice", "CaseStatement",
    "Event", "IdentityBlob", "IdentityConsent", "IdentityRequest", "IdentityShare", "Message",
    "MembershipApproval", "OfficerNotice",
    "Officer", "ServerSession", "ShareRelease", "Team", "TeamMember", "TeamPlan", "Unit", "UTCDateTime", "new_id",
    "utcnow",
]
