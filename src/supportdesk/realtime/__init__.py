"""Events, the bus that carries them between processes, and the WebSocket gateway."""
