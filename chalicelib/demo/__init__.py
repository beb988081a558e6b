"""The synthetic demo data set: real municipality boundaries, invented businesses and networks."""
