"""Mail: the outbox and its delivery, and the mails the registration and programme rules write."""
