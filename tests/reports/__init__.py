"""Tests of the reports domain."""
