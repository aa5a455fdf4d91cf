"""doodlepaint: turn two-bit doodles into paintings with semantic style transfer."""

__version__ = "0.1.0"
