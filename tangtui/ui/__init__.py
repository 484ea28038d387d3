"""The Textual user interface: one module per pane, screen or widget (see tangtui.app)."""
