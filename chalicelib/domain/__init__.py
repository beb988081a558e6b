"""The domain: businesses, networks and municipalities (models), the privacy rules applied to
every public output, industries (DB07), shipped reference data, geometry and text helpers.
Depends on nothing else in the product."""
