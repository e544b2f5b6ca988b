"""Home page, language switch, health check and the core JSON API."""
