"""All models, imported so that Base.metadata knows every table."""

from storage.models.base import Base
from storage.models.checkins import Checkin, CheckinAnswer, Pause
from storage.models.climate import ClimateAnswer, ClimateWeek
from storage.models.concerns import Concern, ConcernMessage
from storage.models.digests import DigestPost
from storage.models.events import ProcessedEvent
from storage.models.ideas import Idea, IdeaComment, IdeaCycle, IdeaNotice
from storage.models.instruments import (
    InstrumentAnswer,
    InstrumentPending,
    InstrumentPeriod,
    InstrumentSurvey,
)
from storage.models.keys import KeyCheck, KeyRotation, KeyRotationCursor
from storage.models.matching import (
    MatchConstraint,
    MatchingDeparture,
    MatchingProfile,
    MatchProposal,
    MatchProposalPair,
)
from storage.models.people import AuditEntry, Pair, Person, Program
from storage.models.reflections import CompetencyObservation, MentoringSession, Reflection
from storage.models.retention import AnswerRollup
from storage.models.snapshots import PersonDeparture, RosterMember, RosterSnapshot
from storage.models.tracks import TrackAttestation, TrackDelivery, TrackEnrolment, TrackMilestone

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
    "Idea",
    "IdeaComment",
    "IdeaCycle",
    "IdeaNotice",
    "InstrumentAnswer",
    "InstrumentPending",
    "InstrumentPeriod",
    "InstrumentSurvey",
    "KeyCheck",
    "KeyRotation",
    "KeyRotationCursor",
    "MatchConstraint",
    "MatchProposal",
    "MatchProposalPair",
    "MatchingDeparture",
    "MatchingProfile",
    "MentoringSession",
    "Pair",
    "Pause",
    "Person",
    "PersonDeparture",
    "ProcessedEvent",
    "Program",
    "Reflection",
    "RosterMember",
    "RosterSnapshot",
    "TrackAttestation",
    "TrackDelivery",
    "TrackEnrolment",
    "TrackMilestone",
]
