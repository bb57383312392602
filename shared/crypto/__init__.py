"""Encryption at rest for what users own: story text is sealed with envelope encryption.

``envelope.seal`` encrypts a story under a fresh random data key (AES-256-GCM, random 96-bit
nonce, associated data binding the ciphertext to its tale id and owner) and has the data key
wrapped by a key-encryption key behind the ``KeyWrapper`` port (``shared.ports.keys``);
``envelope.open_sealed`` reverses it and raises ``DecryptionError`` on any mismatch.
"""
