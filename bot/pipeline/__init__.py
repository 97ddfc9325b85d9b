"""Newsroom pipeline: feeds → pages → article text → drafts → review → live digests."""
