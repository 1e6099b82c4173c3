"""The rally: definitions from YAML, organisation (registration, opening, closing) and the
kernel-less rally page served over plain HTTP on the same server as Voilà.

- :mod:`~calculatice.rally.definition`: rounds, caps and windows, checked.
- :mod:`~calculatice.rally.organise`: the rally in the store, classes and their codes.
- :mod:`~calculatice.rally.service`: the pairs' sessions, one answer stored per request.
- :mod:`~calculatice.rally.handlers`: the tornado handlers of ``/rallye``.
- :mod:`~calculatice.rally.cli`: ``calculatice rally …``.
"""
