"""The Qt user interface: windows, docks, views and dialogs. Binds to engine models only."""
