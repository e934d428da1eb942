"""A small booking service over Reservo (see ``app.py``)."""
