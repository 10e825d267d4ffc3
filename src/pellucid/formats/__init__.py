"""Readers for container and file formats. Pure functions over bytes; no ML framework imports."""
