"""Infrastructure as code for AWS: the resources around the Chalice app, synthesized offline."""
