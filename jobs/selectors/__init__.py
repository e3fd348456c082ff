"""Reads for pages: each function takes keyword arguments and returns what a view renders.
Selectors read the mirror, never Bedrock. One module per entity."""
