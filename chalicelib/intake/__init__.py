"""Intake: data coming in from outside, the business register (cvr) and the address
geocoder (geocode), refreshed by scheduled jobs."""
