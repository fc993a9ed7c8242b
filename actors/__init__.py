"""option-alpha: an options scanner as trio actors. ``runtime/`` is the kernel; the rest are actors."""
