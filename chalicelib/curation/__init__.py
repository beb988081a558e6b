"""Curation: what people change by hand. Administration with API keys and an audit log
(admin, auth), and network self-registration with moderation (selfregistration)."""
