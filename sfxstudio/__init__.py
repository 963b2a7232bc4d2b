"""SFX Studio: a first draft of the sound effects for a video, and the tools to fix it fast."""

__version__ = "0.1.0"
