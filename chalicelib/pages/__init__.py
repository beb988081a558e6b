"""HTML for people: every resource of the API as a page (OGC API - Features' html class), the
pages of one business and one network with schema.org markup, and the sitemap."""
