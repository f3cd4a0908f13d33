"""Feedback: surveys, personal invitations and answers (NPS, CSAT, CES, custom)."""
