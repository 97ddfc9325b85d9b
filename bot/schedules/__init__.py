"""Scheduled posts: ``spec`` (the values, a leaf), ``scheduler`` (slots, catch-up, /schedule's
operations), ``delivery`` (pacing, retries, the ledger's marks), ``store`` (SQLAlchemy)."""
