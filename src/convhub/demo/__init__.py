"""``convhub demo``: see :mod:`convhub.demo.runner`. The sample applications it runs are the
programs of ``examples/``, unchanged, each with its documented command line."""
