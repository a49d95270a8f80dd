"""Credential safety: the redaction of secrets in customer text (``redaction``), the
guard against staff asking for passwords (``guard``) and the log filter that keeps raw
WebSocket frames out of the transport's logs (``logs``). Pure text functions, no I/O."""
