"""Accounts: workspaces, users, roles, sessions, API tokens and the audit log."""
