"""All models, imported so that Base.metadata knows every table."""

from storage.models.base import Base
from storage.models.checkins import Checkin, CheckinAnswer, Pause
from storage.models.climate import ClimateAnswer, ClimateWeek
from storage.models.concerns import Concern, ConcernMessage
from storage.models.digests import DigestPost
from storage.models.keys import KeyCheck, KeyRotation, KeyRotationCursor
from storage.models.people import AuditEntry, Pair, Person, Program
from storage.models.reflections import CompetencyObservation, MentoringSession, Reflection
from storage.models.retention import AnswerRollup

__all__ = [
    "AnswerRollup",
    "AuditEntry",
    "Base",
    "Checkin",
    "CheckinAnswer",
    "ClimateAnswer",
    "ClimateWeek",
    "CompetencyObservation",
    "Concern",
    "ConcernMessage",
    "DigestPost",
    "KeyCheck",
    "KeyRotation",
    "KeyRotationCursor",
    "MentoringSession",
    "Pair",
    "Pause",
    "Person",
    "Program",
    "Reflection",
]
