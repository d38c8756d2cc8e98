"""Mail: the outbox and its delivery, and the mails the registration and programme rules write."""

from __future__ import annotations


def register_renderers() -> None:
    """Register every producer's renderers with the outbox (the outbox imports no producer)."""
    from eventapp.services.mail import account_mail, campaigns, feedback_mail, registration_mail

    registration_mail.register()
    account_mail.register()
    campaigns.register()
    feedback_mail.register()
