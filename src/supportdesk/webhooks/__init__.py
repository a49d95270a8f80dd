"""Outbound webhooks: signed HTTP callbacks to admin-configured endpoints for request
events, delivered through the outbox with retries, logged per attempt, and guarded
against server-side request forgery."""
