"""The engine: Studio object, commands, events, video clock, outputs, interaction, services."""
__version__ = "0.1.0"
