"""supportdesk: the service behind a SaaS product's in-app support chat."""

__version__ = "0.1.0"
