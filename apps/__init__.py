"""Django apps of the portal, each named for what it owns."""
