"""Who should know whom: supplier search, matches with reasons, nearby networks, and the
welcome feed of new registrations."""
