"""Every chat command, once: ``registry`` lists them, ``Commands.answer`` runs them.

Kept empty on purpose: ``schedules`` imports ``commands.content`` (the scheduled post is built by
the same builders as /summary), and importing this package must not pull in the registry.
"""
