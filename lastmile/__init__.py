"""The entry points: the ``lastmile`` command line and the supervisor of ``lastmile up``.

They sit above every other package (they start the ingest worker, the API,
the notifier and the vendor pulls), so they cannot live in ``hub/``, the
shared vocabulary at the bottom that every package may import.
"""
