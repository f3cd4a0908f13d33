"""H2H: a self-hosted social CRM for human-to-human customer relationships."""

__version__ = "0.1.0.dev0"
