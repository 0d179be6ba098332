"""feedbot: turns long-form publications into Bluesky threads."""

__version__ = "0.1.0"
