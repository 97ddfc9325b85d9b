"""Schedules: when to post (spec, scheduler), how (delivery), and what must survive restarts."""
