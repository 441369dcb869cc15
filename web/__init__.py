"""Fengqiao web layer: the Litestar app, HTML pages, the partner API and the CLI."""
