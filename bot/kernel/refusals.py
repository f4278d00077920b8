"""The one base class for refusals a person is told about as they are."""

from __future__ import annotations


class Refusal(Exception):
    """Raised when the bot will not do what someone asked; its message is safe to show them as is.

    The Slack edge answers every Refusal the same way (an ephemeral note, or an error modal for a form),
    so services raise a subclass and never need to know where the request came from.
    """
