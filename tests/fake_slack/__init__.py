"""A real local fake of the Slack Web API plus a signed-request sender for Bolt apps.

Used by the end-to-end tests and by `mentorbot demo`; see FakeSlack and SlackRequestSender.
"""

from tests.fake_slack.models import Call, FakeUser
from tests.fake_slack.requests import SenderResponse, SlackRequestSender
from tests.fake_slack.server import FakeSlack

__all__ = ["Call", "FakeSlack", "FakeUser", "SenderResponse", "SlackRequestSender"]
