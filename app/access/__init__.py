"""Access: API keys, made (only their hash is kept) and authenticated."""
