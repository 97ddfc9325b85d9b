"""Matrix (matrix-nio): the only package that imports ``nio``.

``settings`` environment → ``MatrixSettings`` and the exceptions; ``client`` the nio client,
typed by the ``NioClient`` protocol; ``rooms`` pure rules (allow-list, power levels, commands,
replies); ``bot`` ``MatrixBot``, the adapter; ``render`` ``Reply`` → notice content (pure).
"""
