"""The editors\x27 review app: signed-in editors split and merge decisions in a browser."""
