"""The main window's docks: scenes, sources, properties, stats and controls."""
