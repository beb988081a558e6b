"""The embeddable map widget: its built files, the demo page, and the compact map data it
loads per municipality."""
