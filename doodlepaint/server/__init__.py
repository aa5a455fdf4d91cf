"""`doodlepaint serve`: the engine behind a small HTTP + WebSocket service (FastAPI on uvicorn).

It imports the engine only, never Qt: a GPU box needs no display.
"""
