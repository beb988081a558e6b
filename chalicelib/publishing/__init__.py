"""The yearly open-data snapshot and barometer: files streamed to a BlobStore, the data
package and DCAT catalogue, the press release with its charts, and the routes that serve them."""
