"""Training the networks that doodlepaint ships (decoders, SANet). Not imported by the app."""
