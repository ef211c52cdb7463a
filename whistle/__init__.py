"""whistle: an anonymous whistleblowing and complaint-handling service."""

from whistle.resources import check_crypto_is_ours as _check_crypto

_check_crypto()  # before any whistle module imports `crypto`: it must be whistle's own
