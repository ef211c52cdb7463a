"""Passphrase rules for officers: long enough, and not one of the first guesses of a cracker.

Length does most of the work (the sealed key is behind Argon2id); the list below catches the
passphrases that reach 12 characters by repetition or keyboard walks, plus Indonesian favourites.
"""
from __future__ import annotations

import unicodedata

from ..messages import N_, Message

MIN_LENGTH = 12
MAX_LENGTH = 1024  # Argon2 handles any length; a cap keeps form posts bounded

_COMMON = frozenset("""
password1234 password12345 password123456 passwordpassword password1234567 p@ssw0rd1234
123456789012 1234567890123 12345678901234 123456789abc 1234567890qwerty 123123123123
qwertyuiopas qwertyuiop123 qwerty123456 qwertyqwerty 1qaz2wsx3edc 1q2w3e4r5t6y qazwsxedcrfv
asdfghjkl123 zxcvbnm12345 iloveyou1234 iloveyouiloveyou welcome12345 administrator admin1234567
adminadminadmin letmein12345 changeme1234 trustno11234 football1234 baseball1234 superman1234
monkey123456 dragon123456 sunshine1234 princess1234 abcdefghijkl abcdefg12345 abc123456789
correcthorsebatterystaple thequickbrownfox thequickbrownfoxjumpsoverthelazydog
rahasia12345 rahasiaku123 rahasiarahasia katasandi123 katasandi1234 sandisandi12 indonesia123
indonesia1234 indonesia12345 indonesiaraya merdeka12345 merdeka17081945 bismillah123 bismillah1234
bismillahirrahmanirrahim alhamdulillah jakarta12345 bandung12345 surabaya1234 garuda123456
pancasila123 pancasila1945 sayangkamu123 akusayangkamu cintaku12345 whistleblower whistle12345
pengaduan123 pelapor12345 admin12345678 petugas12345
""".split())


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def passphrase_problems(passphrase: str, username: str = "") -> list[Message]:
    """Reasons to refuse ``passphrase`` (empty list: acceptable): English msgids with their
    parameters, translated by the page (services/messages.py); ``str()`` gives the English."""
    problems: list[Message] = []
    length = len(unicodedata.normalize("NFC", passphrase))
    if length < MIN_LENGTH:
        problems.append(Message(N_("The passphrase must be at least %(n)d characters long."),
                                {"n": MIN_LENGTH}))
    if length > MAX_LENGTH:
        problems.append(Message(N_("The passphrase must be at most %(n)d characters long."),
                                {"n": MAX_LENGTH}))
    folded = _fold(passphrase).strip()
    squeezed = "".join(folded.split())
    if folded in _COMMON or squeezed in _COMMON:
        problems.append(Message(N_("This passphrase is among the most common ones; choose another.")))
    elif len(set(squeezed)) <= 3 and length >= MIN_LENGTH:
        problems.append(Message(N_("The passphrase repeats too few characters; choose another.")))
    elif username and len(username) >= 3 and _fold(username) in folded:
        problems.append(Message(N_("The passphrase must not contain the username.")))
    return problems
