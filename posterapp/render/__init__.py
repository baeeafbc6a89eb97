"""Pure poster rendering with Pillow; nothing here imports Flask."""
