"""Subjects: brands, persons, products and competitors a workspace listens for."""
