"""Attachments: uploads (plain and resumable), storage, downloads, garbage collection."""
