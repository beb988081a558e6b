"""The Danish business register (CVR): its client, the mapping of its documents, the refresh."""
