"""The web side: the Voilà server and its own HTTP handlers."""
