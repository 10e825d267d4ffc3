"""Command-line front end. Nothing in the library imports this package."""
