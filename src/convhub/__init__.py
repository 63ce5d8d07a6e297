"""convhub: a self-hostable conversation hub speaking eGain Conversation Manager v3."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("convhub")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"
