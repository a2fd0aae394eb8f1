"""Fetching: the only stage that talks HTTP (client, robots.txt, address safety, bodies)."""
