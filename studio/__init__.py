"""The engine: Studio object, commands, events, video clock, outputs, interaction, services."""
